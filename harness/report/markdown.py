"""summary.md: the verdict, the breaks and how to reproduce them, small enough for a CI step
summary and a pull-request comment (GitHub caps a comment at 65,536 characters)."""

from __future__ import annotations

from typing import Any

from harness.analysis.gate import coverage_lines
from harness.host import describe as describe_host
from harness.report.common import (
    boundary,
    breaks,
    case_id,
    gate_reasons,
    headline,
    reproduce,
    scenario_paths,
    side,
)

MAX_CHARS = 60_000
MAX_ROWS = 60


def cell(text: str) -> str:
    """Table-safe: no pipes or newlines, and no markup (runtime messages are not ours)."""
    flat = " ".join(text.split())
    return flat.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def render(document: dict[str, Any]) -> str:
    verdict = document.get("verdict") or {}
    stale = verdict.get("stale_entries", [])
    summary = document.get("summary", {})
    runtimes = document.get("runtimes", [])
    problems = gate_reasons(document)
    title = "❌ " + "; ".join(problems) if problems else "✅ no new break, every run as expected"
    lines = [f"## wasm-compat: {cell(title)}", ""]
    # what did not run comes before anything that ran: a green verdict says how much it saw
    coverage = coverage_lines(document)
    lines.append(f"**{cell(coverage[0])}**")
    # a line indented in the plain text is an item of the list above it
    lines += [f"{'  ' if line.startswith(' ') else ''}- {cell(line)}" for line in coverage[1:]]
    hosts = document.get("hosts") or []
    if hosts:
        lines.append(f"- ⚠️ result sets from {len(hosts)} different hosts (see compat.json)")
    else:
        lines.append(f"- host: {cell(describe_host(document.get('host')))}")
    lines += [
        "",
        f"{summary.get('runs', 0)} runs on {len(runtimes)} runtimes "
        f"({summary.get('passed', 0)} passed, {summary.get('failed', 0)} failed, "
        f"{summary.get('unsupported', 0)} unsupported, {summary.get('not_run', 0)} not run) · "
        + cell(headline(document)),
        "",
    ]
    listed = breaks(document)
    if listed:
        lines += ["| | scenario | from → to | before → after |", "|---|---|---|---|"]
        for transition, is_new in listed[:MAX_ROWS]:
            wrong = "**wrong result**: " if transition.get("wrong_result") else ""
            lines.append(
                f"| {'🆕 new' if is_new else 'accepted'} | {cell(case_id(transition))} | "
                f"{cell(boundary(transition))}{' (upgrade)' if transition['upgrade'] else ''} | "
                f"{wrong}{cell(side(transition['before'], 60))} → "
                f"{cell(side(transition['after'], 60))} |"
            )
        if len(listed) > MAX_ROWS:
            lines.append(f"\n… and {len(listed) - MAX_ROWS} more in compat.html / compat.json.")
        lines += ["", "### Reproduce", "", "```sh"]
        paths = scenario_paths(document)
        shown = [t for t, is_new in listed if is_new][:5] or [listed[0][0]]
        lines += [reproduce(t, paths) for t in shown]
        lines += ["```", ""]
    for entry in stale:
        lines.append(
            f"- accepted break no longer happens: {cell(entry['scenario'])} "
            f"{cell(entry['from'])} → {cell(entry['to'])} (remove it from the baseline)"
        )
    text = "\n".join(lines).rstrip() + "\n"
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 40] + "\n\n… (cut to fit)\n"
