"""tox plugin: each runtime env's requirements, interpreter and order come from its name.

`wasmtime-50.0.1` installs wasmtime==50.0.1; `wasmer-1.1.0-universal-cranelift` installs
wasmer==1.1.0 and wasmer-compiler-cranelift==1.1.0 on the CPython 3.9 that the `python39` env
provides; `wazero-1.8.2-compiler` builds the Go worker against wazero v1.8.2 into the env
(`harness.provision.go_worker`, with the machine's Go and its module proxy). These are
defaults: a `[testenv:NAME]` section in tox.ini overrides any of them. The `matrix` env runs
after every runtime env, so `tox -p` provisions them all first. Runtime envs carry their
family's label (`tox -m wasmtime`, `-m wasmer`, `-m wazero`), and `latest` for the newest
release of each line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from tox.config.loader.memory import MemoryLoader
from tox.config.sets import EnvConfigSet
from tox.config.types import Command, EnvList
from tox.plugin import impl
from tox.session.state import State

sys.path.insert(0, str(Path(__file__).parent))
import harness
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
        if spec.is_go:
            env_dir = Path(state.conf.core["work_dir"]) / name
            defaults["commands"] = [_go_build(spec.version, env_dir)]
        else:
            defaults["commands"] = [Command(["python", "-c", "import sys; print(sys.version)"])]
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


def _go_build(version: str, env_dir: Path) -> Command:
    """Build the Go worker against this release into the env (not fatal when it cannot: the env
    then says why, and the matrix reports it). The harness is put on the path, not installed."""
    run = (
        "import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); "
        "runpy.run_module('harness.provision.go_worker', run_name='__main__', alter_sys=True)"
    )
    root = str(Path(harness.__file__).resolve().parent.parent)
    return Command(["python", "-c", run, root, "build", version, "--into", str(env_dir)])
