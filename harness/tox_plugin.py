"""tox plugin: each runtime env's requirements, interpreter and order come from its name.

Registered through the `tox` entry point, so installing wasm-compat next to tox makes the rule
work in any tox.ini. `wasmtime-50.0.1` installs wasmtime==50.0.1; `wasmer-1.1.0-universal-
cranelift` installs wasmer==1.1.0 and wasmer-compiler-cranelift==1.1.0 on the CPython 3.9 that
the `python39` env provides; `wazero-1.8.2-compiler` gets the Go worker built against wazero
v1.8.2 (`harness.provision.go_worker`, with the machine's Go and its module proxy) as tox sets
the env up, so `tox --notest` provisions it too. A runtime env holds the runtime only, and one
that cannot be provisioned is reported by the matrix, not fatal to tox. `matrix` runs every
scenario on every runtime after all of them (so `tox -p` provisions them first): `tox -e matrix
-- --runtime wasmtime-50` narrows it. Runtime envs carry their family's label (`tox -m wasmtime`,
`-m wasmer`, `-m wazero`), and `latest` for the newest release of each line.

A warm setup is mostly waiting on the index, so a Python env's exact pins are installed from
uv's cache first, without it; tox's own install then goes to the index only for what is still
missing (an unpinned dependency, or everything when the cache lacks a pin), resolving as before.

These are defaults: a `[testenv:NAME]` section overrides any of them, while `[testenv]` does
not (it holds a project's settings for its own envs, which a runtime env must not inherit).
Stdlib, tox (with its packaging) and harness only; runs in tox's own interpreter, where
wasm-compat is installed.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from tox.config.loader.memory import MemoryLoader
from tox.config.sets import EnvConfigSet
from tox.config.types import Command, EnvList
from tox.execute.request import StdinSource
from tox.plugin import impl
from tox.session.state import State
from tox.tox_env.api import ToxEnv
from tox.tox_env.errors import Fail

from harness.errors import ProvisionError
from harness.plan.matrix import RuntimeSpec, is_runtime_name, parse_runtime_name, version_key
from harness.provision import go_worker, interpreters
from harness.provision.interpreters import default_prefix, stable_path

_LOGGER = logging.getLogger(__name__)

PYTHON39_ENV = "python39"
MATRIX_ENV = "matrix"
# What the harness reads from the environment: its cache dir ($WASM_COMPAT_CACHE, else under
# $XDG_CACHE_HOME) and where the CPython 3.9 for wasmer is ($WASM_COMPAT_PYTHON39[_PREFIX]).
HARNESS_VARIABLES = ["WASM_COMPAT_*", "XDG_CACHE_HOME"]


@impl
def tox_add_env_config(env_conf: EnvConfigSet, state: State) -> None:
    name = env_conf.name
    if is_runtime_name(name):
        defaults = _runtime_defaults(parse_runtime_name(name), state)
    elif name == PYTHON39_ENV:
        defaults = _python39_defaults()
    elif name == MATRIX_ENV:
        defaults = _matrix_defaults(state)
    else:
        return
    # after the env's own section (it wins), before the `[testenv]` it inherits from
    own = [i for i, loader in enumerate(env_conf.loaders) if loader.section.name == name]
    env_conf.loaders.insert(own[-1] + 1 if own else 0, MemoryLoader(**defaults))


@impl
def tox_on_install(tox_env: ToxEnv, arguments: Any, section: str, of_type: str) -> None:
    """Before a runtime env's deps are installed: at every setup, `--notest` included."""
    if of_type != "deps":
        return
    if tox_env.name == PYTHON39_ENV:
        _install_python39(tox_env)
        return
    if not is_runtime_name(tox_env.name):
        return
    spec = parse_runtime_name(tox_env.name)
    if spec.is_go:
        _put_go_worker(tox_env, spec)
        return
    command = _pins_from_cache_command(tox_env, arguments)
    if command is not None:
        # a failure (a pin not in uv's cache) only leaves the install below to the index
        tox_env.execute(command, stdin=StdinSource.OFF, show=False, run_id="install_pins_cached")


def _install_python39(tox_env: ToxEnv) -> None:
    """The CPython 3.9 the wasmer envs' base_python names, in tox's own process (a working one
    is only self-checked): at setup, since `tox --notest` must provision the wasmer envs too."""
    env = dict(tox_env.environment_variables)
    try:
        installed, found = interpreters.install(
            default_prefix(env), env, from_debian=False, mirror=None, log=_LOGGER.info
        )
    except (ProvisionError, OSError) as exc:  # the wasmer envs then say `not provisioned`
        raise Fail(f"python3.9: {exc}") from None
    _LOGGER.info("%s: CPython %s (%s)", installed.python, found.version_text, installed.origin)


def _put_go_worker(tox_env: ToxEnv, spec: RuntimeSpec) -> None:
    """The worker built against the env's release, linked from the build cache (built there
    first if it is not), in tox's own process: a Python started per env cost more than that."""
    env = dict(tox_env.environment_variables)
    try:
        state = go_worker.install(spec.version, Path(tox_env.env_dir), env)
    except OSError as exc:  # e.g. an unwritable cache: the env reads as not provisioned
        _LOGGER.warning("wazero %s: %s", spec.version, exc)
        return
    if state.worker is None:
        _LOGGER.warning("wazero %s: %s", spec.version, state.problem)
    else:
        _LOGGER.info("wazero %s: %s", spec.version, state.worker)


def _pins_from_cache_command(tox_env: ToxEnv, arguments: Any) -> list[str] | None:
    """`uv pip install --offline --no-deps PINS` for a uv env whose deps are all exact pins
    (==V), without options or constraints; else None. Installed so, the pins are what the
    index would give, and tox-uv's install then finds them satisfied (uv checks their
    dependencies too, and resolves any that are missing against the index, as before): uv
    revalidating each cached index page with the index was most of a warm env's setup."""
    uv = getattr(tox_env, "uv", None)
    build = getattr(tox_env.installer, "build_install_cmd", None)
    constraints = getattr(tox_env.installer, "constraints", None)
    if not isinstance(uv, str) or build is None or not hasattr(arguments, "unroll"):
        return None
    try:
        options, pins = arguments.unroll()
        constrained = constraints is not None and bool(constraints.unroll()[1])
    except ValueError:
        return None
    if options or constrained or not pins or not all(map(is_exact_pin, pins)):
        return None
    command = [str(arg) for arg in build(pins)]
    if command[:3] != [uv, "pip", "install"]:  # a project's own install_command
        return None
    return [*command[:3], "--offline", "--no-deps", *command[3:]]


def is_exact_pin(line: str) -> bool:
    """`wasmtime==50.0.1` (a marker allowed), not a range, a wildcard or a URL."""
    try:
        requirement = Requirement(line)
    except InvalidRequirement:
        return False
    specifiers = list(requirement.specifier)
    return (
        requirement.url is None
        and len(specifiers) == 1
        and specifiers[0].operator in ("==", "===")
        and not specifiers[0].version.endswith("*")
    )


def _runtime_defaults(spec: RuntimeSpec, state: State) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "deps": spec.requirements,
        "description": f"{spec.family} {spec.version} {spec.variant}".rstrip(),
        # the worker is put on the env's path, never installed there
        "skip_install": True,
        "ignore_outcome": True,
    }
    if spec.is_go:
        # nothing to run: the worker is put in at setup (`tox_on_install`), `--notest` too
        defaults["commands"] = []
        defaults["pass_env"] = [*HARNESS_VARIABLES, "GO*"]
    else:
        defaults["commands"] = [Command(["python", "-c", "import sys; print(sys.version)"])]
    if spec.needs_old_python:
        defaults["base_python"] = [str(stable_path(default_prefix(dict(os.environ))))]
        defaults["depends"] = EnvList([PYTHON39_ENV])
    # `tox -m wasmtime`, `tox -m wasmer`, `tox -m latest` (the newest release of each line)
    runtimes = [parse_runtime_name(e) for e in state.conf.core["env_list"] if is_runtime_name(e)]
    newest = max(version_key(r.version) for r in runtimes if r.line == spec.line)
    latest = ["latest"] if version_key(spec.version) == newest else []
    defaults["labels"] = [spec.family, *latest]
    return defaults


def _python39_defaults() -> dict[str, Any]:
    return {
        "description": "a CPython 3.9 for the wasmer envs (wasm-compat's README: Python 3.9)",
        "base_python": ["python3"],
        "skip_install": True,
        "ignore_outcome": True,
        # nothing to run: the interpreter is provided at setup (`tox_on_install`), `--notest` too
        "commands": [],
        # install where this plugin looks for it (base_python above): tox passes no variable
        # that says where that is unless told to
        "pass_env": HARNESS_VARIABLES,
    }


def _matrix_defaults(state: State) -> dict[str, Any]:
    """Run the matrix with the harness that tox itself imports this plugin from: a project
    need not install wasm-compat into an env (tox's `{posargs:--runtime all}`)."""
    out = Path(state.conf.core["tox_root"]) / "reports"
    runtimes = list(state.conf.pos_args(None) or ["--runtime", "all"])
    every = state.conf.core["env_list"]
    return {
        "description": "run every scenario on every pinned runtime and upgrade pair, diff, "
        "write reports/",
        "depends": EnvList([e for e in every if is_runtime_name(e)]),
        "skip_install": True,
        "ignore_outcome": False,
        "allowlist_externals": [sys.executable],
        "pass_env": HARNESS_VARIABLES,
        "commands": [
            Command([sys.executable, "-m", "harness", "run", "--out", str(out), *runtimes])
        ],
    }
