"""Where wasm-compat keeps what it can make again: one cache directory for every stage.

    $WASM_COMPAT_CACHE, else $XDG_CACHE_HOME/wasm-compat, else ~/.cache/wasm-compat
    ├── fixtures/     fixtures built by wasm-tools, by content hash (scenario.fixtures)
    ├── envs/         bisect's throwaway release envs (search.bisect)
    └── python3.9/    the CPython 3.9 for wasmer, unless $WASM_COMPAT_PYTHON39_PREFIX names
                      another place (provision.interpreters)

Stdlib only and Python 3.9: `python -m harness.provision.interpreters` imports it on a machine
where nothing else is installed yet.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

CACHE_ENV = "WASM_COMPAT_CACHE"


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """The cache directory `env` (default: this process's environment) names."""
    env = os.environ if env is None else env
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV])
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "wasm-compat"
