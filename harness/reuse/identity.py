"""Digests that stand for what a run depends on: module bytes, a runtime env, the harness, the
host. Each is computed from files, without starting a runtime, so a fully reused matrix costs
reading them and nothing more."""

from __future__ import annotations

import functools
import json
import subprocess
import threading
from pathlib import Path

import harness
from harness.host import current_host
from harness.reuse.inputs import digest, text_digest

_HARNESS = Path(harness.__file__).resolve().parent
# The harness's own files that can change an outcome: its Python (worker, adapters, execution,
# normalization), the Go worker's sources and the protocol's schemas.
_HARNESS_FILES = ("*.py", "*.go", "go.mod", "go.sum", "*.json")

_lock = threading.Lock()
_files: dict[tuple[str, int, int], str] = {}


def file_digest(path: Path) -> str:
    """The digest of a file's bytes, computed once per path, size and modification time."""
    stat = path.stat()
    memo = (str(path), stat.st_size, stat.st_mtime_ns)
    with _lock:
        known = _files.get(memo)
    if known is None:
        known = digest(path.read_bytes())
        with _lock:
            _files[memo] = known
    return known


@functools.lru_cache(maxsize=1)
def harness_identity() -> str:
    """The harness's version and a digest of its sources: an edit of the worker, or of how a
    result is normalized, is a new harness even where the version number stayed."""
    files = sorted(p for pattern in _HARNESS_FILES for p in _HARNESS.rglob(pattern) if p.is_file())
    parts = [f"{p.relative_to(_HARNESS).as_posix()}:{file_digest(p)}" for p in files]
    return f"{harness.__version__}+{text_digest(chr(10).join(parts))[:16]}"


@functools.lru_cache(maxsize=1)
def host_identity() -> str:
    return text_digest("\n".join(current_host().identity))[:32]


# Run by the env's interpreter: its version, and what is installed where it imports from.
_ENV_SCRIPT = (
    "import json, os, sys; "
    "print(json.dumps([sys.version, os.path.realpath(sys.executable), "
    "[p for p in sys.path if p and os.path.isdir(p)]]))"
)


def python_env_identity(python: str) -> str | None:
    """An interpreter and every distribution it can import, by each one's RECORD (which lists
    the digest of every installed file, so equal RECORDs mean equal wheels); None when the
    interpreter cannot say."""
    try:
        proc = subprocess.run(
            [python, "-c", _ENV_SCRIPT], capture_output=True, text=True, timeout=60, check=False
        )
        version, executable, paths = json.loads(proc.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    parts = [version, executable]
    for folder in paths:
        for record in sorted(Path(folder).glob("*.dist-info/RECORD")):
            parts.append(f"{record.parent.name}:{file_digest(record)}")
    return text_digest("\n".join(parts))[:32]


def go_worker_identity(binary: Path) -> str | None:
    """A Go worker's binary: it holds the toolchain, the wazero release it links and the
    worker's sources, as its build info says."""
    try:
        return file_digest(binary)[:32]
    except OSError:
        return None
