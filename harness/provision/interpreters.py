"""A CPython 3.9 for the wasmer envs, at one stable path: ``PREFIX/bin/python3.9``.

wasmer 1.x publishes wheels only for CPython 3.7-3.10 (1.0.0 stops at 3.9), so its envs need an
older interpreter than the harness runs on. ``install`` puts one at ``PREFIX/bin/python3.9``
(``$WASM_COMPAT_PYTHON39_PREFIX``, else ``python3.9`` in the cache directory of
``harness.paths``: ``~/.cache/wasm-compat/python3.9`` unless ``$WASM_COMPAT_CACHE`` or
``$XDG_CACHE_HOME`` say otherwise) by one of two routes:

- **existing**: a CPython 3.7-3.10 already on the machine (``$WASM_COMPAT_PYTHON39``, then
  ``python3.9``/``python3.8``/``python3.10`` on PATH, then pyenv's versions), checked by running it,
  is linked there. A symlink is enough: CPython resolves its own executable's symlinks to find its
  standard library, and venvs made from the link record ``PREFIX/bin`` as their home.
- **debian-bullseye** (when nothing fits, or with ``--from-debian``): Debian 11's ``python3.9``
  packages are fetched from the mirror the system's apt sources already name, with a private apt
  configuration in a temp dir (the system's sources and state are never touched, no root needed),
  unpacked with ``dpkg-deb -x`` into ``PREFIX/debian-root``, and the extension modules that link
  bullseye-only libraries (libssl1.1, libffi7, libmpdec3) get an ``$ORIGIN``-relative RPATH set by
  an unpacked ``patchelf``. Signatures are verified with the system's Debian archive keyring.

Either way the result must pass a self-check (ssl, ctypes, _decimal, hashlib, sqlite3, lzma, bz2,
zlib and distutils import), and ``PREFIX/interpreter.json`` records where it came from. A second
``install`` with a working interpreter in place only repeats the self-check.

This module imports only the stdlib and the harness's stdlib-only bottom (``harness.errors``,
``harness.paths``) and runs on Python 3.9-3.13, so a bare CI machine can run
``python3 -m harness.provision.interpreters install`` before anything else is installed.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import glob
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from harness.errors import ExitCode, ProvisionError
from harness.paths import CACHE_ENV, cache_dir

PREFIX_ENV = "WASM_COMPAT_PYTHON39_PREFIX"
INTERPRETER_ENV = "WASM_COMPAT_PYTHON39"
STATE_FILE = "interpreter.json"
STATE_FORMAT = 1
DEBIAN_ROOT = "debian-root"

SELF_CHECK_MODULES = (
    "ssl",
    "ctypes",
    "_decimal",
    "hashlib",
    "sqlite3",
    "lzma",
    "bz2",
    "zlib",
    "distutils.sysconfig",
)
# 3.9 first: it runs every wasmer 1.x release. 3.10 last: wasmer 1.0.0 has no cp310 wheel.
PREFERRED_MINORS = (9, 8, 7, 10)

# python3-distutils and python3-lib2to3 are pinned because the host suite has newer packages of
# those names, built for its own Python.
DEBIAN_PACKAGES = (
    "python3.9-minimal",
    "libpython3.9-minimal",
    "libpython3.9-stdlib",
    "python3.9",
    "libssl1.1",
    "libffi7",
    "libmpdec3",
    "python3-distutils=3.9.2-1",
    "python3-lib2to3=3.9.2-1",
)
DEBIAN_SUITE = "bullseye"
# Names a Debian archive's main suite can have; a source with one of them is a Debian mirror.
DEBIAN_SUITES = frozenset(
    {"stretch", "buster", "bullseye", "bookworm", "trixie", "forky", "duke", "sid"}
    | {"oldoldstable", "oldstable", "stable", "testing", "unstable"}
)
DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
APT_SOURCES = ("etc/apt/sources.list", "etc/apt/sources.list.d")


Log = Callable[[str], None]


# --- apt sources: pure ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AptSource:
    types: tuple[str, ...]
    uris: tuple[str, ...]
    suites: tuple[str, ...]
    components: tuple[str, ...]
    signed_by: str | None = None


@dataclasses.dataclass(frozen=True)
class DebianMirror:
    archive: str  # e.g. the URI of the main archive, without a trailing slash
    security: str
    host_suite: str  # the system's own suite, where patchelf comes from
    keyring: str | None  # None: apt's default trusted keys


def parse_one_line_sources(text: str) -> list[AptSource]:
    """``deb [opt=value ...] URI SUITE [COMPONENT...]`` lines, as in sources.list."""
    sources = []
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if len(words) < 3 or words[0] not in ("deb", "deb-src"):
            continue
        options: dict[str, str] = {}
        rest = words[1:]
        if rest[0].startswith("["):
            closing = next(i for i, w in enumerate(rest) if w.endswith("]"))
            for option in " ".join(rest[: closing + 1]).strip("[] ").split():
                key, _, value = option.partition("=")
                options[key.lower()] = value
            rest = rest[closing + 1 :]
        if len(rest) < 2:
            continue
        sources.append(
            AptSource(
                types=(words[0],),
                uris=(rest[0],),
                suites=(rest[1],),
                components=tuple(rest[2:]),
                signed_by=options.get("signed-by"),
            )
        )
    return sources


def parse_deb822_sources(text: str) -> list[AptSource]:
    """The ``.sources`` format: stanzas of ``Field: value`` separated by blank lines."""
    sources = []
    for stanza in _deb822_stanzas(text):
        if stanza.get("enabled", "yes").lower() == "no":
            continue
        signed_by = stanza.get("signed-by", "").strip()
        sources.append(
            AptSource(
                types=tuple(stanza.get("types", "").split()),
                uris=tuple(stanza.get("uris", "").split()),
                suites=tuple(stanza.get("suites", "").split()),
                components=tuple(stanza.get("components", "").split()),
                # An inline key block is not a path; apt's default keys are used instead.
                signed_by=signed_by if signed_by.startswith("/") else None,
            )
        )
    return [s for s in sources if s.types and s.uris and s.suites]


def _deb822_stanzas(text: str) -> Iterator[dict[str, str]]:
    fields: dict[str, str] = {}
    last = ""
    for line in [*text.splitlines(), ""]:
        if line.startswith("#"):
            continue
        if not line.strip():
            if fields:
                yield fields
            fields, last = {}, ""
        elif line[0] in " \t" and last:
            fields[last] += "\n" + line.strip()  # a continuation line (e.g. an inline key)
        elif ":" in line:
            key, _, value = line.partition(":")
            last = key.strip().lower()
            fields[last] = value.strip()


def find_debian_mirror(
    sources: Iterable[AptSource], exists: Callable[[str], bool] = os.path.exists
) -> DebianMirror:
    """The Debian archive (and its security archive) the system already uses."""
    binary = [s for s in sources if "deb" in s.types]
    main = next((s for s in binary if _web_uris(s) and set(s.suites) & DEBIAN_SUITES), None)
    if main is None:
        raise ProvisionError(
            "no Debian archive found in the apt sources (the Debian route needs Debian's mirror); "
            "pass --mirror URL or bring your own CPython 3.7-3.10 via $" + INTERPRETER_ENV
        )
    archive = _web_uris(main)[0].rstrip("/")
    host_suite = next(s for s in main.suites if s in DEBIAN_SUITES)
    security = next(
        (_web_uris(s)[0].rstrip("/") for s in binary if _web_uris(s) and _is_security(s)),
        archive + "-security",  # Debian's layout: /debian beside /debian-security
    )
    keyring = DEBIAN_KEYRING if exists(DEBIAN_KEYRING) else None
    if keyring is None and main.signed_by and exists(main.signed_by):
        keyring = main.signed_by
    return DebianMirror(archive, security, host_suite, keyring)


def mirror_from_url(url: str, exists: Callable[[str], bool] = os.path.exists) -> DebianMirror:
    """A mirror given on the command line; the host suite then comes from /etc/os-release."""
    archive = url.rstrip("/")
    keyring = DEBIAN_KEYRING if exists(DEBIAN_KEYRING) else None
    return DebianMirror(archive, archive + "-security", _os_codename() or "stable", keyring)


def _web_uris(source: AptSource) -> list[str]:
    return [u for u in source.uris if u.startswith(("http://", "https://"))]


def _is_security(source: AptSource) -> bool:
    return any(s.endswith("-security") or s.endswith("/updates") for s in source.suites)


def private_sources_list(mirror: DebianMirror) -> str:
    option = f"[signed-by={mirror.keyring}] " if mirror.keyring else ""
    lines = [
        f"deb {option}{mirror.archive} {DEBIAN_SUITE} main",
        f"deb {option}{mirror.security} {DEBIAN_SUITE}-security main",
    ]
    if mirror.host_suite != DEBIAN_SUITE:
        lines.append(f"deb {option}{mirror.archive} {mirror.host_suite} main")
    return "\n".join(lines) + "\n"


def apt_options(workdir: Path, *, check_valid_until: bool = True) -> list[str]:
    """apt-get options that keep every list, cache and source inside ``workdir``."""
    settings = {
        "Dir::State::Lists": str(workdir / "lists"),
        "Dir::Cache": str(workdir / "cache"),
        "Dir::Etc::SourceList": str(workdir / "sources.list"),
        # The system's sources and pins must not leak in (nor ours into the system).
        "Dir::Etc::SourceParts": "/dev/null",
        "Dir::Etc::Preferences": "/dev/null",
        "Dir::Etc::PreferencesParts": "/dev/null",
        "Acquire::Languages": "none",
        # Without this, a source that fails to download is only a warning.
        "APT::Update::Error-Mode": "any",
    }
    if not check_valid_until:
        settings["Acquire::Check-Valid-Until"] = "false"
    return [arg for key, value in settings.items() for arg in ("-o", f"{key}={value}")]


def apt_commands(
    workdir: Path, mirror: DebianMirror, *, check_valid_until: bool = True
) -> tuple[list[str], list[str]]:
    """The ``apt-get update`` and ``apt-get download`` command lines."""
    base = ["apt-get", "-q", *apt_options(workdir, check_valid_until=check_valid_until)]
    packages = [*DEBIAN_PACKAGES, f"patchelf/{mirror.host_suite}"]
    return [*base, "update"], [*base, "download", *packages]


def package_names() -> list[str]:
    """The names of the packages ``apt_commands`` downloads, without versions or suites."""
    return [p.split("=")[0].split("/")[0] for p in (*DEBIAN_PACKAGES, "patchelf")]


def rpath_for(file_dir: str, needed: Iterable[str], private_libs: dict[str, str]) -> str | None:
    """An ``$ORIGIN``-relative RPATH reaching the private libraries a file needs, if any."""
    dirs = sorted({private_libs[name] for name in needed if name in private_libs})
    if not dirs:
        return None
    rel = [os.path.relpath(d, file_dir) for d in dirs]
    return ":".join("$ORIGIN" if r == "." else f"$ORIGIN/{r}" for r in rel)


# --- candidates: pure -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Probe:
    """What running a candidate's self-check found."""

    path: str
    executable: str = ""  # sys.executable, resolved: the real binary behind a shim or link
    version: tuple[int, ...] = ()
    implementation: str = ""
    problem: str = ""  # empty when the candidate is usable

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))


def judge(probe: Probe) -> Probe:
    """The probe, with a problem if the interpreter is not a CPython 3.7-3.10."""
    if probe.problem:
        return probe
    if probe.implementation != "cpython":
        return dataclasses.replace(probe, problem=f"{probe.implementation} is not CPython")
    if not (3, 7) <= probe.version[:2] <= (3, 10):
        return dataclasses.replace(probe, problem=f"{probe.version_text} is not 3.7-3.10")
    return probe


def select_candidate(paths: Iterable[str], check: Callable[[str], Probe], log: Log) -> Probe | None:
    """The best usable candidate: 3.9 over 3.8 over 3.7 over 3.10, then the order given.

    Running a candidate takes a few hundred ms, so the search stops at the first usable 3.9.
    """
    usable: list[Probe] = []
    for path in paths:
        probe = judge(check(path))
        if not probe.ok:
            log(f"skip {path}: {probe.problem}")
            continue
        real = "" if probe.executable == path else f" (really {probe.executable})"
        log(f"found {path}: CPython {probe.version_text}{real}")
        usable.append(probe)
        if probe.version[1] == PREFERRED_MINORS[0]:
            break
    return min(usable, key=lambda p: PREFERRED_MINORS.index(p.version[1]), default=None)


def candidate_paths(
    env: dict[str, str], which: Callable[[str], str | None], home: Path
) -> list[str]:
    """Where an existing interpreter may be, best guesses first (pyenv shims included: the
    self-check weeds out those that fail, and reveals the real binary behind those that work)."""
    on_path = [which(f"python3.{minor}") for minor in (9, 10, 8)]
    pyenv_roots = dict.fromkeys(
        p for p in (env.get("PYENV_ROOT"), str(home / ".pyenv"), "/root/.pyenv") if p
    )
    in_pyenv = [
        found
        for root in pyenv_roots
        for minor in PREFERRED_MINORS
        for found in sorted(glob.glob(f"{root}/versions/3.{minor}.*/bin/python3.{minor}"))
    ]
    return list(dict.fromkeys(p for p in [*on_path, *in_pyenv] if p))


# --- running things -------------------------------------------------------------------------

SELF_CHECK_SCRIPT = """
import json, sys
problems = []
for name in {modules!r}:
    try:
        __import__(name)
    except Exception as error:
        problems.append("import %s failed (%s: %s)" % (name, type(error).__name__, error))
print(json.dumps({{
    "implementation": sys.implementation.name,
    "version": list(sys.version_info[:3]),
    "executable": sys.executable,
    "problems": problems,
}}))
"""


def probe(path: str) -> Probe:
    """Run the self-check in ``path``; never raises."""
    script = SELF_CHECK_SCRIPT.format(modules=SELF_CHECK_MODULES)
    try:
        proc = subprocess.run(
            [path, "-I", "-W", "ignore", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return Probe(path, problem=f"cannot run it ({error})")
    last_line = (proc.stdout.strip().splitlines() or [""])[-1]
    try:
        found = json.loads(last_line)
    except ValueError:
        return Probe(path, problem=f"exit {proc.returncode}: {_gist(proc.stderr)}")
    return Probe(
        path,
        executable=os.path.realpath(found["executable"]),
        version=tuple(found["version"]),
        implementation=found["implementation"],
        problem="; ".join(found["problems"]),
    )


def _gist(stderr: str) -> str:
    """The telling line of an error output: a traceback's last, otherwise the first."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()] or ["no output"]
    return lines[-1] if lines[0].startswith("Traceback") else lines[0]


def run(cmd: Sequence[str], log: Log, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    log("$ " + " ".join(cmd))
    return subprocess.run(
        list(cmd), cwd=cwd, capture_output=True, text=True, check=False, timeout=600
    )


def _last_error(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.startswith(("E:", "W:"))]
    return (lines or (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines())[-1]


def read_system_sources(root: Path = Path("/")) -> list[AptSource]:
    files = [root / APT_SOURCES[0], *sorted((root / APT_SOURCES[1]).glob("*"))]
    sources: list[AptSource] = []
    for path in filter(Path.is_file, files):
        if path.suffix == ".sources":
            sources += parse_deb822_sources(path.read_text(errors="replace"))
        elif path.name == "sources.list" or path.suffix == ".list":
            sources += parse_one_line_sources(path.read_text(errors="replace"))
    return sources


def _os_codename() -> str | None:
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("VERSION_CODENAME="):
                return line.partition("=")[2].strip('"') or None
    return None


# --- state ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Installed:
    python: Path  # PREFIX/bin/python3.9
    origin: str  # "existing:/path/to/python3.9" or "debian-bullseye:<package version>"


def stable_path(prefix: Path) -> Path:
    return prefix / "bin" / "python3.9"


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


# --- the two routes -------------------------------------------------------------------------


def install_existing(prefix: Path, env: dict[str, str], log: Log) -> Probe | None:
    """Link an interpreter already on the machine, if one is usable."""
    explicit = env.get(INTERPRETER_ENV)
    if explicit:
        found = judge(probe(explicit))
        if not found.ok:
            raise ProvisionError(f"${INTERPRETER_ENV}={explicit}: {found.problem}: fix or unset it")
        log(f"using ${INTERPRETER_ENV}: CPython {found.version_text} ({found.executable})")
    else:
        paths = candidate_paths(env, shutil.which, Path.home())
        chosen = select_candidate(paths, probe, log)
        if chosen is None:
            return None
        found = chosen
    if found.version[:2] == (3, 10):
        log("note: CPython 3.10 runs wasmer 1.1.0 but not 1.0.0 (no cp310 wheel)")
    log(f"link {stable_path(prefix)} -> {found.executable}")
    link(prefix, found.executable)
    write_state(prefix, f"existing:{found.executable}", found)
    return found


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


# --- commands -------------------------------------------------------------------------------


def default_prefix(env: dict[str, str]) -> Path:
    return Path(env.get(PREFIX_ENV) or cache_dir(env) / "python3.9")


def install(
    prefix: Path, env: dict[str, str], *, from_debian: bool, mirror: str | None, log: Log
) -> tuple[Installed, Probe]:
    """Ensure ``PREFIX/bin/python3.9`` works; do nothing more if it already does."""
    with locked(prefix):
        current = _current(prefix, env, from_debian, log)
        if current is not None:
            return current
        found = None if from_debian else install_existing(prefix, env, log)
        if found is None:
            log("taking Debian's bullseye python3.9" if from_debian else "no usable one here")
            install_debian(prefix, mirror, log)
        final = judge(probe(str(stable_path(prefix))))
        if not final.ok:
            raise ProvisionError(
                f"{stable_path(prefix)} fails its self-check: {final.problem}: "
                f"remove {prefix} and run install again"
            )
        return read_state(prefix), final


def _current(
    prefix: Path, env: dict[str, str], from_debian: bool, log: Log
) -> tuple[Installed, Probe] | None:
    """The installed interpreter if it still passes the self-check (and fits ``from_debian``)."""
    try:
        installed = read_state(prefix)
    except ProvisionError:
        return None
    if from_debian and not installed.origin.startswith(f"debian-{DEBIAN_SUITE}:"):
        log(f"installed one is {installed.origin}; --from-debian replaces it")
        return None
    explicit = env.get(INTERPRETER_ENV)
    if (
        explicit
        and not from_debian
        and installed.origin != f"existing:{os.path.realpath(explicit)}"
    ):
        log(f"installed one is {installed.origin}; ${INTERPRETER_ENV} names another")
        return None
    found = judge(probe(str(installed.python)))
    if found.ok:
        log(f"{installed.python} ({installed.origin}) passes its self-check")
        return installed, found
    log(f"installed {installed.origin} fails its self-check ({found.problem}); reinstalling")
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    env = dict(os.environ)
    prefix = Path(args.prefix).absolute() if args.prefix else default_prefix(env)
    quiet = getattr(args, "quiet", False)

    def log(message: str) -> None:
        if not quiet:
            print(f"[python3.9] {message}", file=sys.stderr, flush=True)

    started = time.monotonic()
    try:
        if args.command == "find":
            installed = read_state(prefix)
            print(f"{installed.python} {installed.origin}")
            return ExitCode.OK
        installed, found = install(
            prefix, env, from_debian=args.from_debian, mirror=args.mirror, log=log
        )
    except (ProvisionError, OSError) as error:  # an OSError: e.g. a prefix we cannot write
        print(f"error: {error}", file=sys.stderr)
        return ExitCode.FAILURES
    log(f"done in {time.monotonic() - started:.1f}s")
    print(f"{installed.python}: CPython {found.version_text} ({installed.origin})")
    return ExitCode.OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m harness.provision.interpreters",
        description="Provide a CPython 3.9 for the wasmer envs at PREFIX/bin/python3.9.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    prefix_help = (
        f"where it goes (default: ${PREFIX_ENV}, else python3.9 in ${CACHE_ENV}, "
        "$XDG_CACHE_HOME/wasm-compat or ~/.cache/wasm-compat)"
    )
    setup = commands.add_parser("install", help="provide one (idempotent)")
    setup.add_argument("--prefix", help=prefix_help)
    setup.add_argument(
        "--from-debian", action="store_true", help="take bullseye's, even if one is installed"
    )
    setup.add_argument("--mirror", help="Debian archive URL (default: from the apt sources)")
    setup.add_argument("--quiet", action="store_true", help="print only the result")
    lookup = commands.add_parser("find", help="print the installed one and its origin")
    lookup.add_argument("--prefix", help=prefix_help)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
