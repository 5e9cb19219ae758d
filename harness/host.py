"""The host results come from: CPU, kernel, libc, Python, harness version; and failures that
depend on it.

A result set records its host, so two result sets from different machines are not compared as
if one runtime had changed. Everything here is pure over the texts it is given, except
`current_host`, which reads them from this machine once.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import harness

CPUINFO = Path("/proc/cpuinfo")
UNKNOWN = "unknown"
FLAGS_HASH_CHARS = 16
SHOWN_FLAGS = 8  # flags named in a difference; the rest are counted


@dataclass(frozen=True)
class CpuInfo:
    model: str
    vendor: str
    flags: tuple[str, ...]


@dataclass(frozen=True)
class Host:
    """Where a result set was run; `to_json` is what compat.json and results.jsonl record."""

    cpu_model: str
    cpu_vendor: str
    cpu_flags: tuple[str, ...]
    cpu_flags_hash: str
    machine: str
    system: str
    kernel: str
    libc: str
    python: str
    harness: str

    def to_json(self) -> dict[str, Any]:
        record = asdict(self)
        record["cpu_flags"] = list(self.cpu_flags)
        return record

    @classmethod
    def from_json(cls, record: Mapping[str, Any] | None) -> Host | None:
        """A recorded host, or None for a result set written before hosts were recorded."""
        if not isinstance(record, Mapping):
            return None
        flags = tuple(str(f) for f in record.get("cpu_flags") or ())
        return cls(
            cpu_model=str(record.get("cpu_model") or UNKNOWN),
            cpu_vendor=str(record.get("cpu_vendor") or UNKNOWN),
            cpu_flags=flags,
            cpu_flags_hash=str(record.get("cpu_flags_hash") or flags_hash(flags)),
            machine=str(record.get("machine") or UNKNOWN),
            system=str(record.get("system") or UNKNOWN),
            kernel=str(record.get("kernel") or UNKNOWN),
            libc=str(record.get("libc") or UNKNOWN),
            python=str(record.get("python") or UNKNOWN),
            harness=str(record.get("harness") or UNKNOWN),
        )

    @property
    def identity(self) -> tuple[str, ...]:
        """What makes two hosts the same for comparing results: the coordinator's Python and the
        harness version are not the host (each runtime records its own Python)."""
        return (
            self.cpu_vendor,
            self.cpu_model,
            self.cpu_flags_hash,
            self.machine,
            self.system,
            self.kernel,
            self.libc,
        )

    @property
    def label(self) -> str:
        return f"{self.cpu_model}, flags {self.cpu_flags_hash}"

    @property
    def cpu_summary(self) -> str:
        """The CPU as a person would name it: model and its widest vector extensions."""
        return ", ".join([self.cpu_model, *notable_features(self.cpu_flags)])


def parse_cpuinfo(text: str) -> CpuInfo:
    """Model, vendor and flags from /proc/cpuinfo's first processor block (x86 or Arm wording)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break  # the first processor's block is enough: the others repeat it
            continue
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip().lower(), value.strip())
    model = _first(fields, "model name", "hardware", "cpu model", "cpu", "processor")
    vendor = _first(fields, "vendor_id", "cpu implementer", "vendor")
    flags = (fields.get("flags") or fields.get("features") or "").split()
    return CpuInfo(model or UNKNOWN, vendor or UNKNOWN, tuple(sorted(set(flags))))


def _first(fields: Mapping[str, str], *keys: str) -> str:
    for key in keys:
        value = fields.get(key, "")
        if value and not value.isdigit():  # `processor : 0` is an index, not a name
            return " ".join(value.split())
    return ""


def flags_hash(flags: Iterable[str]) -> str:
    """A short, order-independent hash of the full flag list: equal exactly when the sets are."""
    text = " ".join(sorted(set(flags)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:FLAGS_HASH_CHARS]


def fingerprint(
    cpuinfo: str,
    *,
    machine: str,
    system: str,
    kernel: str,
    libc: str,
    python: str,
    harness_version: str,
) -> Host:
    cpu = parse_cpuinfo(cpuinfo)
    return Host(
        cpu_model=cpu.model,
        cpu_vendor=cpu.vendor,
        cpu_flags=cpu.flags,
        cpu_flags_hash=flags_hash(cpu.flags),
        machine=machine or UNKNOWN,
        system=system or UNKNOWN,
        kernel=kernel or UNKNOWN,
        libc=libc or UNKNOWN,
        python=python or UNKNOWN,
        harness=harness_version,
    )


@functools.lru_cache(maxsize=1)
def current_host() -> Host:
    """This machine's fingerprint (read once per process)."""
    try:
        cpuinfo = CPUINFO.read_text(encoding="utf-8", errors="replace")
    except OSError:
        cpuinfo = ""  # not Linux: the model from platform, no flags
    if not cpuinfo and platform.processor():
        cpuinfo = f"model name: {platform.processor()}\n"
    uname = platform.uname()
    return fingerprint(
        cpuinfo,
        machine=uname.machine,
        system=uname.system,
        kernel=uname.release,
        libc=_libc(),
        python=platform.python_version(),
        harness_version=harness.__version__,
    )


def _libc() -> str:
    try:
        confstr = os.confstr("CS_GNU_LIBC_VERSION")  # exact for glibc: "glibc 2.36"
    except (AttributeError, ValueError, OSError):
        confstr = None
    if confstr:
        return confstr
    name, version = platform.libc_ver()
    return f"{name} {version}".strip() or UNKNOWN


# The widest extensions of each kind, as the people who hit a CPU-dependent failure name them.
_FEATURES: tuple[tuple[tuple[str, str], ...], ...] = (
    (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse4_2", "SSE4.2")),
    (("amx_tile", "AMX"),),
    (("sve2", "SVE2"), ("sve", "SVE")),
    (("hypervisor", "under a hypervisor"),),
)


def notable_features(flags: Iterable[str]) -> list[str]:
    present = set(flags)
    found = []
    for ladder in _FEATURES:
        for flag, name in ladder:
            if flag in present:
                found.append(name)
                break
    return found


def host_differences(sources: Sequence[tuple[str, Host | None]]) -> list[str]:
    """How the hosts of several result sets (each with a label, e.g. its path) differ, one line
    per host beyond the first; nothing when they come from one host."""
    groups: dict[tuple[str, ...], tuple[Host, list[str]]] = {}
    unrecorded = []
    for label, host in sources:
        if host is None:
            unrecorded.append(label)
            continue
        groups.setdefault(host.identity, (host, []))[1].append(label)
    lines = []
    listed = list(groups.values())
    if listed:
        first, first_labels = listed[0]
        for host, labels in listed[1:]:
            a, b = ", ".join(first_labels), ", ".join(labels)
            lines.append(
                f"result sets come from different hosts: {a} ({first.label}) and "
                f"{b} ({host.label}): {'; '.join(_differences(first, host))}"
            )
    if unrecorded and listed:
        lines.append(
            "cannot tell whether all result sets come from one host: "
            f"{', '.join(unrecorded)} record(s) no host (written by an older wasm-compat)"
        )
    return lines


def _differences(a: Host, b: Host) -> list[str]:
    found = []
    if (a.cpu_vendor, a.cpu_model) != (b.cpu_vendor, b.cpu_model):
        found.append(f"CPU {a.cpu_model} ({a.cpu_vendor}) vs {b.cpu_model} ({b.cpu_vendor})")
    if a.cpu_flags_hash != b.cpu_flags_hash:
        only_a = sorted(set(a.cpu_flags) - set(b.cpu_flags))
        only_b = sorted(set(b.cpu_flags) - set(a.cpu_flags))
        found.append(
            f"CPU flags differ ({a.cpu_flags_hash} vs {b.cpu_flags_hash}; "
            f"only in the first: {_few(only_a)}; only in the second: {_few(only_b)})"
        )
    for name, x, y in (
        ("machine", a.machine, b.machine),
        ("system", a.system, b.system),
        ("kernel", a.kernel, b.kernel),
        ("libc", a.libc, b.libc),
    ):
        if x != y:
            found.append(f"{name} {x} vs {y}")
    return found


def _few(flags: list[str]) -> str:
    if not flags:
        return "none"
    shown = " ".join(flags[:SHOWN_FLAGS])
    return shown if len(flags) <= SHOWN_FLAGS else f"{shown} and {len(flags) - SHOWN_FLAGS} more"


# A failure whose cause is the CPU the runtime runs on, not the runtime's code path under test:
# (what in the message or stderr shows it, what to say about it).
_CPU_DEPENDENT: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"raw-cpuid|res\.eax == 0", re.I),
        "the release's CPU-feature detection fails here",
    ),
    (
        re.compile(r"\bSIGILL\b|illegal (?:hardware )?instruction", re.I),
        "the release executes an instruction this CPU does not have",
    ),
    (
        re.compile(
            r"unsupported (?:host )?CPU|not supported (?:by|on) (?:this|the host) CPU|CPU feature",
            re.I,
        ),
        "the release does not support this CPU's features",
    ),
)


def cpu_dependence(*texts: str | None) -> str | None:
    """What makes a failure depend on this host's CPU, from its message, signal or stderr; None
    when nothing in them says so."""
    text = "\n".join(t for t in texts if t)
    for pattern, phrase in _CPU_DEPENDENT:
        if pattern.search(text):
            return phrase
    return None


@dataclass(frozen=True)
class Provenance:
    """Where several result sets joined into one came from."""

    host: dict[str, Any] | None  # the one host every recorded result set names, else None
    hosts: list[dict[str, Any]] | None  # each result set's host, when they are not all one
    warnings: list[str]


def provenance(sources: Sequence[tuple[str, Mapping[str, Any] | None]]) -> Provenance:
    """The host of result sets joined into one, from each one's label and recorded host."""
    typed = [(label, Host.from_json(record)) for label, record in sources]
    known = {host.identity: record for (_, host), (_, record) in zip(typed, sources) if host}
    one = next(iter(known.values())) if len(known) == 1 else None
    mixed = len(known) > 1 or (bool(known) and any(host is None for _, host in typed))
    hosts = None
    if mixed:
        hosts = [{"results": label, "host": dict(r) if r else None} for label, r in sources]
    return Provenance(dict(one) if one else None, hosts, host_differences(typed))


def describe(record: Mapping[str, Any] | None) -> str:
    """One line for a report's header: `Intel(R) Xeon(R) ... (x86_64, flags 9e8f...), Linux
    6.1, glibc 2.36, Python 3.11.7`; `not recorded` for results written before hosts were."""
    host = Host.from_json(record)
    if host is None:
        return "not recorded"
    return (
        f"{host.cpu_model} ({host.machine}, CPU flags {host.cpu_flags_hash}), "
        f"{host.system} {host.kernel}, {host.libc}, Python {host.python}"
    )
