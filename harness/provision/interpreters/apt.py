"""Debian's apt sources as the system has them, and a private apt configuration for bullseye.

The system's sources (one-line ``sources.list`` and deb822 ``.sources``) say which Debian mirror
the machine already uses; the private configuration points apt at that mirror's bullseye suites
and keeps every list, cache and source in a work dir, so the system's apt is never touched.
Everything here is pure except ``read_system_sources`` and ``_os_codename``, which read /etc.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from harness.errors import ProvisionError
from harness.provision.interpreters.candidates import INTERPRETER_ENV

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
