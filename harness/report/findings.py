"""docs/findings.md: every break, fix, drift and flaky transition between the pinned releases of
a full run, with its boundary and evidence, for people who want the facts without the matrix."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from harness.report.common import case_id, side
from harness.report.markdown import cell

ORDER = (("break", "Breaks"), ("fix", "Fixes"), ("flaky", "Flaky"), ("drift", "Drift"))
WIDTH = 110


def render(document: dict[str, Any]) -> str:
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
        "producer's own control run. Messages are normalized.",
        "",
        "Runtimes: " + ", ".join(f"`{n}`" for n in tested) + ".",
    ]
    untested = [r for r in runtimes if r.get("status") != "ok"]
    for r in untested:
        lines.append(f"Not tested: `{r['name']}` ({cell(str(r.get('reason') or r['status']))}).")
    releases = [t for t in transitions if not t["upgrade"]]
    for kind, title in ORDER:
        chosen = [t for t in releases if t["kind"] == kind]
        lines += ["", f"## {title} between releases ({len(chosen)})", ""]
        if not chosen:
            lines.append("None.")
            continue
        lines += [
            "| scenario | line | boundary | what changed | before | after |",
            "|---|---|---|---|---|---|",
        ]
        for t in chosen:
            lines.append(
                f"| {cell(case_id(t))} | {cell(t['line'])} | {cell(t['from'])} → "
                f"{cell(t['to'])} | {cell(', '.join(t.get('changed', [])))} | "
                f"{cell(side(t['before'], WIDTH))} | {cell(side(t['after'], WIDTH))} |"
            )
    lines += _upgrades([t for t in transitions if t["upgrade"]])
    return "\n".join(lines).rstrip() + "\n"


def _upgrades(upgrades: list[dict[str, Any]]) -> list[str]:
    lines = ["", f"## Upgrade transitions ({len(upgrades)})", ""]
    if not upgrades:
        return [*lines, "None."]
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for t in upgrades:
        counts[(case_id(t), t["family"])][f"{t['kind']}: {t['after'].get('outcome')}"] += 1
    lines += ["| scenario | family | producer → consumer pairs |", "|---|---|---|"]
    for (case, family), tally in sorted(counts.items()):
        summary = ", ".join(f"{n} {what}" for what, n in sorted(tally.items()))
        lines.append(f"| {cell(case)} | {cell(family)} | {cell(summary)} |")
    crashes = [t for t in upgrades if t["after"].get("outcome") in ("crash", "timeout")]
    if crashes:
        lines += ["", "Upgrade pairs where the consumer crashed or hung:", ""]
        for t in crashes:
            after = cell(side(t["after"], WIDTH))
            lines.append(f"- {cell(case_id(t))}: `{t['from']}` ⇒ `{t['to']}`: {after}")
    return lines
