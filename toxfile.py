"""tox plugin: each runtime env's requirements, interpreter and order come from its name.

`wasmtime-50.0.1` installs wasmtime==50.0.1; `wasmer-1.1.0-universal-cranelift` installs
wasmer==1.1.0 and wasmer-compiler-cranelift==1.1.0 on the CPython 3.9 that the `python39` env
provides. These are defaults: a `[testenv:NAME]` section in tox.ini overrides any of them.
The `matrix` env runs after every runtime env, so `tox -p` provisions them all first. Runtime
envs carry the labels `wasmtime` or `wasmer`, and `latest` for the newest release of each line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from tox.config.loader.memory import MemoryLoader
from tox.config.sets import EnvConfigSet
from tox.config.types import EnvList
from tox.plugin import impl
from tox.session.state import State

sys.path.insert(0, str(Path(__file__).parent))
from harness.paths import CACHE_ENV
from harness.plan.matrix import is_runtime_name, parse_runtime_name, version_key
from harness.provision.interpreters import INTERPRETER_ENV, PREFIX_ENV, default_prefix, stable_path

PYTHON39_ENV = "python39"


@impl
def tox_add_env_config(env_conf: EnvConfigSet, state: State) -> None:
    name = env_conf.name
    defaults: dict[str, Any] = {}
    if is_runtime_name(name):
        spec = parse_runtime_name(name)
        defaults["deps"] = spec.requirements
        defaults["description"] = f"{spec.family} {spec.version} {spec.variant}".rstrip()
        if spec.needs_old_python:
            defaults["base_python"] = [str(stable_path(default_prefix(dict(os.environ))))]
            defaults["depends"] = EnvList([PYTHON39_ENV])
        # `tox -m wasmtime`, `tox -m wasmer`, `tox -m latest` (the newest release of each line)
        runtimes = [
            parse_runtime_name(e) for e in state.conf.core["env_list"] if is_runtime_name(e)
        ]
        newest = max(version_key(r.version) for r in runtimes if r.line == spec.line)
        latest = ["latest"] if version_key(spec.version) == newest else []
        defaults["labels"] = [spec.family, *latest]
    elif name == PYTHON39_ENV:
        # install where this plugin looks for it (base_python above): tox passes no variable
        # that says where that is unless told to
        defaults["pass_env"] = [PREFIX_ENV, INTERPRETER_ENV, CACHE_ENV, "XDG_CACHE_HOME"]
    elif name == "matrix":
        every = state.conf.core["env_list"]
        defaults["depends"] = EnvList([e for e in every if is_runtime_name(e)])
    if defaults:
        env_conf.loaders.append(MemoryLoader(**defaults))  # last: tox.ini sections win
