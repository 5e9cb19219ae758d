"""Runtime envs for the release tests: made once with uv, reused across runs; and the one rule for
a test of a particular release on this machine.

A release that cannot start here (wasmer 1.0 and wasmtime 0.20 assert on the CPU features of
AVX-512 machines; a wasmer compiler whose import kills the interpreter) is not a failure of the
harness: a test of it is skipped with the reason the harness's own probe gives, the same one
`wasm-compat runtimes` shows. A release that starts and then misbehaves fails its test as usual,
and so does an env that does not have the runtime at all, or a probe the harness itself got wrong.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from harness.execution.probe import probe
from harness.model.runtime import Runtime
from harness.provision.interpreters import default_prefix, stable_path
from harness.search.bisect import provision

# Reasons that say the env or wasm-compat is broken, not that this machine cannot run the release.
BROKEN = (
    "is not installed",
    "harness error",
    "protocol error",
    "could not classify",
    "ended unobserved",
)

WASMER_PACKAGES = (
    "wasmer",
    "wasmer-compiler-cranelift",
    "wasmer-compiler-singlepass",
    "wasmer-compiler-llvm",
)

_probed: dict[tuple[str, str, str], Runtime] = {}


def cached_env(name: str, interpreter: str, requirements: Sequence[str]) -> str:
    """The python of `test-envs/NAME` under the cache dir, created with these requirements."""
    base = Path(os.environ.get("WASM_COMPAT_CACHE", Path.home() / ".cache" / "wasm-compat"))
    return provision(base / "test-envs" / name, interpreter, requirements)


def probed(python: str, family: str, variant: str = "") -> Runtime:
    """What the harness's probe says of the runtime in this env (once per test session)."""
    key = (python, family, variant)
    if key not in _probed:
        with tempfile.TemporaryDirectory(prefix="wasm-compat-probe-") as scratch:
            _probed[key] = probe(python, Path(scratch), None, family, variant)
    return _probed[key]


def usable(python: str, family: str, variant: str = "", name: str | None = None) -> Runtime:
    """The runtime in this env, probed; the calling test is skipped with the probe's reason when
    this machine cannot start it, and fails when the env or the probe is broken."""
    runtime = probed(python, family, variant)
    why = runtime.unavailable
    if why is None:
        return runtime
    label = name or f"{family} in {python}" + (f" ({variant})" if variant else "")
    if any(marker in why for marker in BROKEN):
        pytest.fail(f"{label} is not usable: {why}", pytrace=False)
    pytest.skip(f"{label} is not usable on this machine: {why}")


def release(family: str, version: str, variant: str = "") -> Runtime:
    """A usable runtime of this release (see `usable`), from a cached env of its own: wasmtime on
    this interpreter, wasmer 1.x (with all three compilers) on a CPython 3.7-3.10."""
    if family == "wasmtime":
        python = cached_env(f"wasmtime-{version}", sys.executable, [f"wasmtime=={version}"])
    else:
        packages = [f"{p}=={version}" for p in WASMER_PACKAGES]
        python = cached_env(f"wasmer-{version}", old_python(), packages)
    name = f"{family}-{version}" + (f"-{variant}" if variant else "")
    runtime = usable(python, family, variant, name)
    if runtime.version != version:
        pytest.fail(f"{python} has {family} {runtime.version}, not {version}", pytrace=False)
    return runtime


def old_python() -> str:
    """A CPython that wasmer 1.x has wheels for (3.7-3.10), or the test is skipped."""
    candidates = (
        os.environ.get("WASM_COMPAT_PYTHON39", ""),
        # where harness.provision.interpreters puts one
        str(stable_path(default_prefix(dict(os.environ)))),
    )
    for candidate in candidates:
        if not candidate or not Path(candidate).is_file():
            continue
        found = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[0] * 100 + sys.version_info[1])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if found.returncode == 0 and 307 <= int(found.stdout) <= 310:
            return candidate
    pytest.skip(
        "no CPython 3.7-3.10 for wasmer's wheels: set WASM_COMPAT_PYTHON39 or run "
        "`python -m harness.provision.interpreters install`"
    )
