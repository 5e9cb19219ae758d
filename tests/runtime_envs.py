"""Throwaway runtime envs for the release tests: made once with uv, reused across runs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from harness.bisect import provision


def cached_env(name: str, interpreter: str, requirements: Sequence[str]) -> str:
    """The python of `test-envs/NAME` under the cache dir, created with these requirements."""
    base = Path(os.environ.get("WASM_COMPAT_CACHE", Path.home() / ".cache" / "wasm-compat"))
    return provision(base / "test-envs" / name, interpreter, requirements)
