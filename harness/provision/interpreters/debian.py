"""The debian-bullseye route: Debian 11's python3.9 packages, unpacked into ``PREFIX/debian-root``.

The packages are fetched with the private apt configuration of ``apt`` (signatures checked with
the system's Debian archive keyring), unpacked with ``dpkg-deb -x`` into a staging dir, and the
libraries that need bullseye-only libraries (libssl1.1, libffi7, libmpdec3) get an
``$ORIGIN``-relative RPATH from an unpacked patchelf; only a staged interpreter that passes its
self-check replaces the one in the prefix.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from harness.errors import ProvisionError
from harness.provision.interpreters.apt import (
    DEBIAN_SUITE,
    DebianMirror,
    apt_commands,
    find_debian_mirror,
    mirror_from_url,
    package_names,
    private_sources_list,
    read_system_sources,
)
from harness.provision.interpreters.candidates import INTERPRETER_ENV, Log, judge, probe
from harness.provision.interpreters.prefix import DEBIAN_ROOT, link, stable_path, write_state


def install_debian(prefix: Path, mirror_url: str | None, log: Log) -> None:
    """Fetch bullseye's python3.9 with a private apt configuration and unpack it into PREFIX."""
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise ProvisionError(
                f"{tool} not found: the Debian route needs a Debian-based system; "
                f"bring your own CPython 3.7-3.10 via ${INTERPRETER_ENV}"
            )
    mirror = (
        mirror_from_url(mirror_url) if mirror_url else find_debian_mirror(read_system_sources())
    )
    log(f"mirror {mirror.archive} (security {mirror.security}), host suite {mirror.host_suite}")
    log(f"keyring {mirror.keyring or 'apt default (trusted.gpg.d)'}")
    with tempfile.TemporaryDirectory(prefix="wasm-compat-py39-") as tmp:
        work = Path(tmp)
        debs = _download(work, mirror, log)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=prefix))
        try:
            version = _unpack(debs, staging, work / "tools", log)
            _fix_rpaths(staging, work / "tools/usr/bin/patchelf", log)
            found = judge(probe(str(staging / "usr/bin/python3.9")))
            if not found.ok:
                raise ProvisionError(
                    f"the unpacked bullseye python3.9 fails: {found.problem}: install the system "
                    "library it names (the bullseye interpreter uses the host's libc, zlib, ...)"
                )
            found = dataclasses.replace(
                found, executable=str(prefix / DEBIAN_ROOT / "usr/bin/python3.9")
            )
            _swap_in(staging, prefix / DEBIAN_ROOT)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    # Relative, so that the whole prefix can be moved or restored from a CI cache.
    target = f"../{DEBIAN_ROOT}/usr/bin/python3.9"
    log(f"link {stable_path(prefix)} -> {target}")
    link(prefix, target)
    write_state(prefix, f"debian-{DEBIAN_SUITE}:{version}", found)


def _download(work: Path, mirror: DebianMirror, log: Log) -> list[Path]:
    for sub in ("lists/partial", "cache/archives/partial", "debs"):
        (work / sub).mkdir(parents=True)
    (work / "sources.list").write_text(private_sources_list(mirror))
    _let_apt_sandbox_in(work)
    update, download = apt_commands(work, mirror)
    proc = run(update, log)
    if proc.returncode != 0 and "is expired" in proc.stdout + proc.stderr:
        # An archived suite's Release can outlive its Valid-Until; the signature is still checked.
        log("a Release file is past its Valid-Until date; retrying without that date check")
        update, download = apt_commands(work, mirror, check_valid_until=False)
        proc = run(update, log)
    if proc.returncode != 0:
        raise ProvisionError(f"apt-get update failed: {_last_error(proc)}{_key_hint(proc)}")
    _log_apt_summary(proc, log)
    proc = run(download, log, cwd=work / "debs")
    if proc.returncode != 0:
        raise ProvisionError(f"apt-get download failed: {_last_error(proc)}")
    _log_apt_summary(proc, log)
    debs = sorted((work / "debs").glob("*.deb"))
    got = {deb.name.split("_", 1)[0] for deb in debs}
    missing = [name for name in package_names() if name not in got]
    if missing:
        raise ProvisionError(f"apt-get download did not fetch {', '.join(missing)}: run again")
    return debs


def _log_apt_summary(proc: subprocess.CompletedProcess[str], log: Log) -> None:
    for line in (proc.stdout + proc.stderr).splitlines():
        if line.startswith(("Fetched ", "W:", "N:")):
            log(f"  {line}")


def _key_hint(proc: subprocess.CompletedProcess[str]) -> str:
    text = proc.stdout + proc.stderr
    if any(word in text for word in ("NO_PUBKEY", "not signed", "EXPKEYSIG", "signature")):
        # Verification is never turned off: without bullseye's keys there is no Debian route.
        return " (the signature cannot be verified: install debian-archive-keyring for its keys)"
    return ""


def _let_apt_sandbox_in(work: Path) -> None:
    """As root, apt downloads as the unprivileged _apt user, which must reach the work dir."""
    if os.geteuid() != 0:
        return
    work.chmod(0o755)
    with contextlib.suppress(KeyError):
        uid = pwd.getpwnam("_apt").pw_uid
        for sub in ("debs", "lists/partial", "cache/archives/partial"):
            os.chown(work / sub, uid, -1)


def _unpack(debs: list[Path], staging: Path, tools: Path, log: Log) -> str:
    """Unpack the interpreter into ``staging`` and patchelf into ``tools``; return the version."""
    version = ""
    for deb in debs:
        name = deb.name.split("_", 1)[0]
        dest = tools if name == "patchelf" else staging
        log(f"unpack {deb.name}")
        proc = run(["dpkg-deb", "-x", str(deb), str(dest)], lambda _: None)
        if proc.returncode != 0:
            raise ProvisionError(f"dpkg-deb -x {deb.name} failed: {_last_error(proc)}")
        if name == "python3.9-minimal":
            version = deb.name.split("_")[1].replace("%3a", ":")
    if not version or not (tools / "usr/bin/patchelf").exists():
        raise ProvisionError("python3.9-minimal or patchelf was not unpacked: run again")
    return version


def _fix_rpaths(staging: Path, patchelf: Path, log: Log) -> None:
    """Give each ELF library that needs a private library an RPATH to it."""
    libraries = [p for p in staging.rglob("*.so*") if p.is_file() and not p.is_symlink()]
    private = {p.name: str(p.parent) for p in staging.glob("usr/lib/*-*/*.so.*") if not p.is_dir()}
    for path in libraries:
        needed = run([str(patchelf), "--print-needed", str(path)], lambda _: None)
        if needed.returncode != 0:
            continue  # not an ELF object (e.g. a linker script)
        rpath = rpath_for(str(path.parent), needed.stdout.split(), private)
        if rpath is None:
            continue
        log(f"rpath {rpath} on {path.relative_to(staging)}")
        proc = run([str(patchelf), "--set-rpath", rpath, str(path)], lambda _: None)
        if proc.returncode != 0:
            raise ProvisionError(f"patchelf failed on {path.name}: {_last_error(proc)}")


def _swap_in(staging: Path, root: Path) -> None:
    old = root.with_name(f".old-{os.getpid()}")
    if root.exists():
        os.replace(root, old)
    os.replace(staging, root)
    shutil.rmtree(old, ignore_errors=True)


def rpath_for(file_dir: str, needed: Iterable[str], private_libs: dict[str, str]) -> str | None:
    """An ``$ORIGIN``-relative RPATH reaching the private libraries a file needs, if any."""
    dirs = sorted({private_libs[name] for name in needed if name in private_libs})
    if not dirs:
        return None
    rel = [os.path.relpath(d, file_dir) for d in dirs]
    return ":".join("$ORIGIN" if r == "." else f"$ORIGIN/{r}" for r in rel)


def run(cmd: Sequence[str], log: Log, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    log("$ " + " ".join(cmd))
    return subprocess.run(
        list(cmd), cwd=cwd, capture_output=True, text=True, check=False, timeout=600
    )


def _last_error(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.startswith(("E:", "W:"))]
    return (lines or (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines())[-1]
