"""The gate: one exit code for a whole result set, and the coverage every output leads with. Pure.

    3  a harness error: wasm-compat itself failed somewhere, so no verdict can be trusted
    1  a new break, an accepted break that no longer happens, a run that missed its
       expectation (outside `known`), or a required runtime that did not run
    0  none of these

Runtimes that did not run, and baseline entries this result set could not check, do not fail
the gate unless they are required, but every output names them first: a green run says how much
of the matrix it saw. By default every requested runtime is required; a user narrows that with
`--require-runtimes` or tox.ini's `[wasm-compat] require_runtimes`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.analysis.baseline import Entry
from harness.analysis.normalize import normalize
from harness.errors import ExitCode
from harness.model.record import JsonObject, JsonValue, Status
from harness.plan.matrix import matches, parse_runtime_name

ALL = "all"
NONE = "none"


@dataclass(frozen=True)
class Coverage:
    """How much of what was asked for ran."""

    runtimes: int
    ran: tuple[str, ...]
    not_run: dict[str, tuple[str, ...]]  # reason -> the runtimes it kept from running
    unchecked: tuple[Entry, ...]  # baseline entries no transition here could test

    @property
    def complete(self) -> bool:
        return not self.not_run


@dataclass(frozen=True)
class Decision:
    code: ExitCode
    reasons: tuple[str, ...] = field(default=())

    def to_json(self) -> JsonObject:
        return {"exit_code": int(self.code), "reasons": list(self.reasons)}


def coverage(document: dict[str, Any]) -> Coverage:
    runtimes = document.get("runtimes") or []
    not_run: dict[str, list[str]] = {}
    shown: dict[str, str] = {}  # the same failure in several envs differs only in their paths
    for runtime in runtimes:
        if runtime.get("status") not in (None, "ok"):
            key = normalize(_why(runtime)) or ""
            not_run.setdefault(shown.setdefault(key, _why(runtime)), []).append(runtime["name"])
    unchecked = (document.get("verdict") or {}).get("unchecked_entries") or []
    return Coverage(
        runtimes=len(runtimes),
        ran=tuple(r["name"] for r in runtimes if r.get("status") in (None, "ok")),
        not_run={reason: tuple(names) for reason, names in not_run.items()},
        unchecked=tuple(unchecked),
    )


def _why(runtime: dict[str, Any]) -> str:
    state = "not usable" if runtime.get("status") == "unavailable" else str(runtime.get("status"))
    return f"{state}: {runtime.get('reason') or 'no reason given'}"


def coverage_lines(document: dict[str, Any]) -> list[str]:
    """The lines every output starts with, as plain text."""
    cov = coverage(document)
    lines = [f"{len(cov.ran)} of {cov.runtimes} runtime(s) ran" + ("" if cov.not_run else ".")]
    if cov.not_run:
        missing = sum(len(names) for names in cov.not_run.values())
        lines[0] += f"; {missing} did not:"
        for reason, names in cov.not_run.items():
            lines.append(f"  {', '.join(names)}: {reason}")
    if cov.unchecked:
        lines.append(f"{len(cov.unchecked)} baseline entr(y/ies) not checked by this run:")
        for entry in cov.unchecked:
            lines.append(f"  {entry_label(entry)}")
    return lines


def entry_label(entry: Mapping[str, JsonValue]) -> str:
    params = f"[{entry['params']}]" if entry.get("params") else ""
    arrow = "⇒" if entry.get("upgrade") else "→"
    return f"{entry['scenario']}{params} {entry['from']} {arrow} {entry['to']} ({entry['after']})"


def is_required(name: str, patterns: Sequence[str]) -> bool:
    if ALL in patterns or NONE in patterns:
        return ALL in patterns
    try:
        spec = parse_runtime_name(name)
    except ValueError:  # a bare interpreter's runtime: its name is all there is
        return any(fnmatch.fnmatchcase(name, p) for p in patterns)
    return any(matches(spec, p) for p in patterns)


def gate(document: dict[str, Any], required: Sequence[str] = (ALL,)) -> Decision:
    """The exit code of a result set, with a line per reason it is not 0."""
    summary = document.get("summary") or {}
    if summary.get("harness_errors"):
        n = summary["harness_errors"]
        return Decision(ExitCode.INTERNAL_ERROR, (f"{n} harness error(s): a bug in wasm-compat",))
    verdict = document.get("verdict") or {}
    reasons = []
    if verdict.get("new_breaks"):
        reasons.append(f"{len(verdict['new_breaks'])} new break(s)")
    if verdict.get("stale_entries"):
        reasons.append(f"{len(verdict['stale_entries'])} accepted break(s) no longer happen")
    failed = [r for r in document.get("runs") or [] if _status(r) is Status.FAIL]
    if failed:
        reasons.append(f"{len(failed)} run(s) missed their expectation")
    missing = [
        r["name"]
        for r in document.get("runtimes") or []
        if r.get("status") not in (None, "ok") and is_required(r["name"], required)
    ]
    if missing:  # each one's reason is in the coverage lines
        reasons.append(f"{len(missing)} required runtime(s) did not run: {', '.join(missing)}")
    return Decision(ExitCode.FAILURES if reasons else ExitCode.OK, tuple(reasons))


def _status(run: Mapping[str, JsonValue]) -> Status | None:
    """A run record's status (a test's minimal record may have none)."""
    return None if run.get("status") is None else Status(run["status"])
