"""Digests that stand for what a run depends on: module bytes, a runtime env, the harness, the
host. Each is computed from files, without starting a runtime, so a fully reused matrix costs
reading them and nothing more."""

from __future__ import annotations

import functools
import json
import os
import re
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
_files: dict[tuple[int, int, int, int], str] = {}


def file_digest(path: Path) -> str:
    """The digest of a file's bytes, computed once per file (device and inode: the compiler and
    interpreter envs of one wazero release hold hard links to one worker), size and time."""
    stat = path.stat()
    memo = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
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
    return sources_identity(_HARNESS, harness.__version__)


def sources_identity(folder: Path, version: str) -> str:
    files = sorted(p for pattern in _HARNESS_FILES for p in folder.rglob(pattern) if p.is_file())
    parts = [f"{p.relative_to(folder).as_posix()}:{file_digest(p)}" for p in files]
    return f"{version}+{text_digest(chr(10).join(parts))[:16]}"


@functools.lru_cache(maxsize=1)
def host_identity() -> str:
    return text_digest("\n".join(current_host().identity))[:32]


# Run by an interpreter that is not a venv's: its version, and where it imports from.
_ENV_SCRIPT = (
    "import json, os, sys; "
    "print(json.dumps([sys.version, os.path.realpath(sys.executable), "
    "[p for p in sys.path if p and os.path.isdir(p)]]))"
)


def python_env_identity(python: str) -> str | None:
    """An interpreter and every distribution it can import, by each one's RECORD (which lists
    the digest of every installed file, so equal RECORDs mean equal wheels); None when the
    interpreter cannot say. A venv (every tox env) is read from its files, without starting it."""
    described = _venv(Path(python)) or _asked(python)
    if described is None:
        return None
    interpreter, folders = described
    parts = [interpreter]
    for folder in folders:
        for record in sorted(folder.glob("*.dist-info/RECORD")):
            parts.append(f"{record.parent.name}:{file_digest(record)}")
    return text_digest("\n".join(parts))[:32]


def _venv(python: Path) -> tuple[str, list[Path]] | None:
    """A venv's base interpreter (pyvenv.cfg, and the binary's size and time) and its
    site-packages; None for an interpreter that is not a venv's, or one that also imports the
    base interpreter's packages."""
    config = python.parent.parent / "pyvenv.cfg"
    try:
        text = config.read_text(encoding="utf-8", errors="replace")
        base = Path(os.path.realpath(python)).stat()
    except OSError:
        return None
    if re.search(r"^include-system-site-packages\s*=\s*true", text, re.M | re.I):
        return None
    folders = sorted(python.parent.parent.glob("lib/python*/site-packages"))
    return f"{_interpreter_lines(text)}\n{base.st_size}:{base.st_mtime_ns}", folders


# pyvenv.cfg lines that say nothing of the interpreter: the shell prompt (which names the
# project's folder, so every checkout differs) and the tool that made the venv
_NOT_INTERPRETER = ("prompt", "uv", "virtualenv")


def _interpreter_lines(config: str) -> str:
    """pyvenv.cfg's lines that name the base interpreter (home, version, implementation)."""
    kept = []
    for line in config.splitlines():
        key = line.partition("=")[0].strip().lower()
        if key and key not in _NOT_INTERPRETER:
            kept.append(line.strip())
    return "\n".join(sorted(kept))


def _asked(python: str) -> tuple[str, list[Path]] | None:
    try:
        proc = subprocess.run(
            [python, "-c", _ENV_SCRIPT], capture_output=True, text=True, timeout=60, check=False
        )
        version, executable, paths = json.loads(proc.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    return f"{version}\n{executable}", [Path(p) for p in paths]


def go_worker_identity(binary: Path) -> str | None:
    """A Go worker's binary: it holds the toolchain, the wazero release it links and the
    worker's sources, as its build info says."""
    try:
        return file_digest(binary)[:32]
    except OSError:
        return None
