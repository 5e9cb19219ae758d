"""docs/findings.md: every break, fix, drift and flaky transition between the pinned releases of
a full run, with its boundary and evidence, for people who want the facts without the matrix."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from harness.analysis.baseline import covers
from harness.model.record import UPGRADE_ARROW, run_label
from harness.report.common import case_id, compared_runs, seed_scenarios, side
from harness.report.corpus import RealWorldModule, real_world_modules
from harness.report.markdown import cell, code, real_world_table

ORDER = (("break", "Breaks"), ("fix", "Fixes"), ("flaky", "Flaky"), ("drift", "Drift"))
WIDTH = 110


def render(
    document: dict[str, Any],
    accepted: Sequence[dict[str, Any]] = (),
    packages: Mapping[str, str] | None = None,
) -> str:
    """`accepted`: the baseline's entries, whose reasons are shown next to the breaks;
    `packages`: the package each real-world module came from (`npm xxhash-wasm 1.1.0`), by its
    spelling in the scenarios."""
    transitions = [t for t in document.get("transitions", []) if t["kind"] != "same"]
    runtimes = document.get("runtimes", [])
    tested = [r["name"] for r in runtimes if r.get("status") == "ok"]
    lines = [
        "# Findings",
        "",
        f"Made by `wasm-compat report --findings` from a run of {len(document.get('runs', []))} "
        f"runs on {len(tested)} runtimes (harness {document.get('harness', '?')}, started "
        f"{document.get('started', '?')}). Release transitions compare adjacent pinned "
        "releases of one line; upgrade transitions compare producer → consumer with the "
        "producer's own control run, with the same producer's previous consumer and with the "
        "same consumer's previous producer. Messages are normalized (the cause chain is kept).",
        "",
        "Runtimes: " + ", ".join(code(n) for n in tested) + ".",
    ]
    untested = [r for r in runtimes if r.get("status") != "ok"]
    for r in untested:
        reason = cell(str(r.get("reason") or r["status"]))
        lines.append(f"Not tested: {code(r['name'])} ({reason}).")
    seeds = seed_scenarios(document)  # the case the project exists for, first in each table
    releases = sorted(
        (t for t in transitions if not t["upgrade"]), key=lambda t: t["scenario"] not in seeds
    )
    for kind, title in ORDER:
        chosen = [t for t in releases if t["kind"] == kind]
        lines += ["", f"## {title} between releases ({len(chosen)})", ""]
        if not chosen:
            lines.append("None.")
            continue
        extra = kind == "break"
        lines += [
            "| scenario | line | boundary | what changed | before | after |"
            + (" baseline |" if extra else ""),
            "|---|---|---|---|---|---|" + ("---|" if extra else ""),
        ]
        for t in chosen:
            lines.append(
                f"| {cell(case_id(t))} | {cell(t['line'])} | {cell(t['from'])} → "
                f"{cell(t['to'])} | {cell(', '.join(t.get('changed', [])))} | "
                f"{cell(side(t['before'], WIDTH))} | {cell(side(t['after'], WIDTH))} |"
                + (f" {_acceptance(t, accepted)} |" if extra else "")
            )
    lines += _upgrades([t for t in transitions if t["upgrade"]], accepted)
    lines += _known(document.get("runs", []))
    lines += _corpus(document, real_world_modules(document), packages or {})
    return "\n".join(lines).rstrip() + "\n"


def _acceptance(t: dict[str, Any], accepted: Sequence[dict[str, Any]]) -> str:
    """Markdown for a table cell: the baseline's reason made inert."""
    entry = next((e for e in accepted if covers(e, t)), None)
    if entry is None:
        return "**new**"
    return f"accepted: {cell(entry.get('reason') or '(no reason given)')}"


def _known(runs: Sequence[dict[str, Any]]) -> list[str]:
    """Known behaviour the scenarios state per runtime, with the runs it applied to."""
    where: dict[str, set[str]] = defaultdict(set)
    for run in runs:
        label = run_label(run).replace(UPGRADE_ARROW, " ⇒ ")
        for reason in run.get("known") or ():
            where[reason].add(f"{run['case']} on {label}")
    lines = ["", f"## Known behaviour stated in the scenarios ({len(where)})", ""]
    if not where:
        return [*lines, "None."]
    lines += ["| known behaviour | runs |", "|---|---|"]
    for reason, runs_seen in sorted(where.items()):
        shown = sorted(runs_seen)
        more = f" and {len(shown) - 6} more" if len(shown) > 6 else ""
        lines.append(f"| {cell(reason)} | {cell('; '.join(shown[:6]) + more)} |")
    return lines


def _upgrades(upgrades: list[dict[str, Any]], accepted: Sequence[dict[str, Any]]) -> list[str]:
    lines = ["", f"## Upgrade transitions ({len(upgrades)})", ""]
    if not upgrades:
        return [*lines, "None."]
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    reasons: dict[tuple[str, str], set[str]] = defaultdict(set)
    for t in upgrades:
        axis = t.get("axis") or "control"
        where = "" if axis == "control" else f" along the {axis}s"
        counts[(case_id(t), t["family"])][f"{t['kind']}{where}: {t['after'].get('outcome')}"] += 1
        if t["kind"] == "break":
            reasons[(case_id(t), t["family"])].add(_acceptance(t, accepted))
    lines += [
        "| scenario | family | producer → consumer pairs | breaks against the baseline |",
        "|---|---|---|---|",
    ]
    for (case, family), tally in sorted(counts.items()):
        summary = ", ".join(f"{n} {what}" for what, n in sorted(tally.items()))
        verdicts = "; ".join(sorted(reasons[(case, family)])) or "no breaks"
        lines.append(f"| {cell(case)} | {cell(family)} | {cell(summary)} | {verdicts} |")
    crashes = list(
        {
            (case_id(t), t["from"], t["to"]): t  # one line per pair, whichever axis saw it
            for t in upgrades
            if t["after"].get("outcome") in ("crash", "timeout") and t["kind"] != "same"
        }.values()
    )
    if crashes:
        lines += ["", "Upgrade pairs where the consumer crashed or hung:", ""]
        for t in crashes:
            after = cell(side(t["after"], WIDTH))
            before = compared_runs(t)[0].replace(UPGRADE_ARROW, " ⇒ ")
            lines.append(
                f"- {cell(case_id(t))}: {code(t['from'])} ⇒ {code(t['to'])}: {after} "
                f"(against {code(before)})"
            )
    return lines


def _corpus(
    document: dict[str, Any], rows: list[RealWorldModule], packages: Mapping[str, str]
) -> list[str]:
    """The real-world modules: where each came from, its size and compile times, then what
    the runs of its scenarios came to and every transition they showed."""
    if not rows:
        return []
    lines = ["", f"## Real-world corpus ({len(rows)} modules)", ""]
    lines += [
        "Compile time: the median over a family's runtimes (fastest-slowest, how many); a "
        "run's first compile of the module only.",
        "",
        *real_world_table(rows, {m.spelling: packages.get(m.spelling, "?") for m in rows}),
        "",
    ]
    runs = document.get("runs", [])
    changes = [t for t in document.get("transitions", []) if t["kind"] != "same"]
    for row in rows:
        mine = [r for r in runs if r.get("scenario") in row.scenarios]
        tally = Counter(r.get("status") for r in mine)
        unsupported: dict[str, set[str]] = defaultdict(set)
        for r in mine:
            if r.get("status") == "unsupported":
                step: dict[str, Any] = next(
                    (s for s in r.get("steps", []) if s.get("outcome") == "unsupported"), {}
                )
                family = str(r.get("runtime", "?")).split("-")[0]
                unsupported[f"{step.get('op', '?')} on {family}"].add(r["scenario"])
        found = ", ".join(f"{n} {status}" for status, n in sorted(tally.items()))
        why = "; ".join(
            f"{what} ({', '.join(sorted(s))})" for what, s in sorted(unsupported.items())
        )
        lines.append(
            f"- {code(row.module)}: {cell(found)}" + (f"; unsupported: {cell(why)}" if why else "")
        )
        for t in (t for t in changes if t["scenario"] in row.scenarios):
            what = ", ".join(t.get("changed", [])) or side(t["after"], WIDTH)
            lines.append(
                f"  - {cell(t['kind'])}: {cell(case_id(t))} {cell(t['from'])} → {cell(t['to'])}: "
                f"{cell(what)}"
            )
    return lines
