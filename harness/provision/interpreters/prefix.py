"""The prefix: the stable ``PREFIX/bin/python3.9`` link, and the state file beside it that says
where the interpreter behind the link came from.

The link and the state are replaced atomically, and one install at a time holds the prefix's
lock, so a CI job that reads the prefix while another installs sees the old one or the new one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from harness.errors import ProvisionError
from harness.paths import cache_dir
from harness.provision.interpreters.candidates import Probe

PREFIX_ENV = "WASM_COMPAT_PYTHON39_PREFIX"
STATE_FILE = "interpreter.json"
STATE_FORMAT = 1
DEBIAN_ROOT = "debian-root"


@dataclasses.dataclass(frozen=True)
class Installed:
    python: Path  # PREFIX/bin/python3.9
    origin: str  # "existing:/path/to/python3.9" or "debian-bullseye:<package version>"


def stable_path(prefix: Path) -> Path:
    return prefix / "bin" / "python3.9"


def default_prefix(env: dict[str, str]) -> Path:
    return Path(env.get(PREFIX_ENV) or cache_dir(env) / "python3.9")


def read_state(prefix: Path) -> Installed:
    """What the last install put in ``prefix``; raises ProvisionError saying why there is none."""
    state_path = prefix / STATE_FILE
    python = stable_path(prefix)
    try:
        state = json.loads(state_path.read_text())
    except FileNotFoundError:
        raise ProvisionError(
            f"nothing installed in {prefix}: run python -m harness.provision.interpreters install"
        ) from None
    except ValueError:
        raise ProvisionError(f"{state_path} is not JSON: remove it and run install") from None
    if state.get("format") != STATE_FORMAT:
        raise ProvisionError(
            f"{state_path} has format {state.get('format')!r}, this module reads "
            f"{STATE_FORMAT}: use the wasm-compat that wrote it, or remove {prefix}"
        )
    if not python.exists():
        raise ProvisionError(f"{python} is missing or dangling: run install again")
    return Installed(python, str(state["origin"]))


def write_state(prefix: Path, origin: str, probe: Probe) -> None:
    state = {
        "format": STATE_FORMAT,
        "origin": origin,
        "python": str(stable_path(prefix)),
        "target": probe.executable,
        "version": probe.version_text,
    }
    tmp = prefix / f".{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    os.replace(tmp, prefix / STATE_FILE)


def link(prefix: Path, target: str) -> Path:
    """Point ``PREFIX/bin/python3.9`` at ``target``, replacing any old link atomically."""
    python = stable_path(prefix)
    python.parent.mkdir(parents=True, exist_ok=True)
    tmp = python.with_name(".python3.9.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(target)
    os.replace(tmp, python)
    return python


@contextlib.contextmanager
def locked(prefix: Path) -> Iterator[None]:
    """One install per prefix at a time (parallel CI jobs may share a home)."""
    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
