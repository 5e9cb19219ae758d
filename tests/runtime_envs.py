"""Throwaway runtime envs for the release tests: made once with uv, reused across runs."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest


def uv() -> str:
    from harness.bisect import BisectError, uv_binary

    try:
        return uv_binary()
    except BisectError:
        pytest.skip("uv is not installed (pip install uv)")


def cached_env(name: str, interpreter: str, requirements: Sequence[str]) -> str:
    """The python of `test-envs/NAME` under the cache dir, created with these requirements."""
    base = Path(os.environ.get("WASM_COMPAT_CACHE", Path.home() / ".cache" / "wasm-compat"))
    env = base / "test-envs" / name
    python = env / "bin" / "python"
    if not python.exists():
        subprocess.run([uv(), "venv", "-q", "-p", interpreter, str(env)], check=True)
        subprocess.run(
            [uv(), "pip", "install", "-q", "--python", str(python), *requirements], check=True
        )
    return str(python)
