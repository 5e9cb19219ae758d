"""summary.md: the verdict, the breaks and how to reproduce them, small enough for a CI step
summary and a pull-request comment (GitHub caps a comment at 65,536 characters)."""

from __future__ import annotations

import re
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
    visible,
)
from harness.report.corpus import RealWorldModule, real_world_modules

MAX_CHARS = 60_000
MAX_ROWS = 60


# Markdown punctuation that can start markup anywhere in a line: emphasis, code spans, links and
# images (`[`), headings, tables, strikethrough, and GFM's email autolinks (`@`).
_PUNCTUATION = re.compile(r"[\\`*\[\]#|~@]")
# `_` is emphasis only at a word's edge: `integer_division_by_zero` stays as it is.
_EDGE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
# GFM links `www.` and `scheme://` without any brackets: an escaped `.` or `:` stops it.
_BARE_LINK = re.compile(r"(?i)(?<=\bwww)\.|:(?=//)")
_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def cell(text: str) -> str:
    """Text from data, inert in a table cell or a line of prose: one line, control characters
    visible, and no heading, emphasis, code, link, image, autolink or raw HTML can start in it
    (runtime messages, reasons, scenario names and parameters are not ours)."""
    flat = " ".join(visible(str(text)).split())
    flat = _PUNCTUATION.sub(lambda m: "\\" + m.group(), flat.translate(_ENTITIES))
    flat = _EDGE_UNDERSCORE.sub(r"\\_", flat)
    return _BARE_LINK.sub(lambda m: "\\" + m.group(), flat)


def code(text: str) -> str:
    """An inline code span holding any text: delimited by one more backtick than its longest
    run inside, so nothing in it closes it early."""
    flat = " ".join(visible(str(text)).split())
    ticks = "`" * (max((len(run) for run in re.findall("`+", flat)), default=0) + 1)
    return f"{ticks} {flat} {ticks}" if "`" in flat else f"{ticks}{flat}{ticks}"


def fence(lines: list[str], info: str = "") -> list[str]:
    """A fenced code block around `lines`, its fence longer than any backtick run inside them;
    each line one line, control characters visible."""
    shown = [visible(line).replace("\n", "\\n") for line in lines]
    longest = max((len(run) for line in shown for run in re.findall("`+", line)), default=0)
    ticks = "`" * max(3, longest + 1)
    return [ticks + info, *shown, ticks]


def real_world_table(
    rows: list[RealWorldModule], packages: dict[str, str] | None = None
) -> list[str]:
    """Size and compile time per family (median, fastest to slowest runtime, how many ran);
    `packages`: the package and version each module came from, by its spelling."""
    families = list(dict.fromkeys(t.family for m in rows for t in m.times))
    extra = ["package"] if packages is not None else []
    head = ["module", *extra, "size", *(f"{f} compile" for f in families)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in rows:
        by = {t.family: t for t in m.times}
        times = [
            f"{by[f].median_s:.2f} s ({by[f].min_s:.2f}-{by[f].max_s:.2f}, {by[f].runtimes})"
            if f in by
            else "-"
            for f in families
        ]
        package = [cell((packages or {}).get(m.spelling, "?"))] if packages is not None else []
        lines.append(f"| {code(m.module)} | " + " | ".join([*package, m.size, *times]) + " |")
    return lines


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
        f"{summary.get('unsupported', 0)} unsupported, {summary.get('not_run', 0)} not run"
        f"{_reused(summary)}) · " + cell(headline(document)),
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
        lines += ["", "### Reproduce", ""]
        paths = scenario_paths(document)
        shown = [t for t, is_new in listed if is_new][:5] or [listed[0][0]]
        lines += [*fence([reproduce(t, paths) for t in shown], "sh"), ""]
    for entry in stale:
        lines.append(
            f"- accepted break no longer happens: {cell(entry['scenario'])} "
            f"{cell(entry['from'])} → {cell(entry['to'])} (remove it from the baseline)"
        )
    corpus = real_world_modules(document)
    if corpus:
        lines += [*([""] if lines[-1] else []), "### Real-world modules", ""]
        lines += [
            "Compile time: the median over a family's runtimes (fastest-slowest, how many).",
            "",
        ]
        lines += real_world_table(corpus)
    text = "\n".join(lines).rstrip() + "\n"
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 40] + "\n\n… (cut to fit)\n"


def _reused(summary: dict[str, Any]) -> str:
    reused = summary.get("reused") or 0
    return f"; {reused} reused, their inputs unchanged" if reused else ""
