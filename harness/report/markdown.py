"""summary.md: the verdict, the breaks and how to reproduce them, small enough for a CI step
summary and a pull-request comment (GitHub caps a comment at 65,536 characters)."""

from __future__ import annotations

from typing import Any

from harness.report.common import breaks, case_id, headline, reproduce, scenario_paths, side

MAX_CHARS = 60_000
MAX_ROWS = 60


def cell(text: str) -> str:
    """Table-safe: no pipes or newlines, and no markup (runtime messages are not ours)."""
    flat = " ".join(text.split())
    return flat.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def render(document: dict[str, Any]) -> str:
    verdict = document.get("verdict") or {}
    new = verdict.get("new_breaks", [])
    stale = verdict.get("stale_entries", [])
    summary = document.get("summary", {})
    runtimes = document.get("runtimes", [])
    ok = not new and not stale
    lines = [
        f"## wasm-compat: {'✅ no new break' if ok else '❌ ' + _problem(len(new), len(stale))}",
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
            arrow = "⇒ (upgrade)" if transition["upgrade"] else "→"
            lines.append(
                f"| {'🆕 new' if is_new else 'accepted'} | {cell(case_id(transition))} | "
                f"{cell(transition['from'])} {arrow} {cell(transition['to'])} | "
                f"{cell(side(transition['before'], 60))} → {cell(side(transition['after'], 60))} |"
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
    missing = [r for r in runtimes if r.get("status") not in (None, "ok")]
    if missing:
        lines += ["", "### Runtimes not tested", ""]
        for r in missing:
            lines.append(
                f"- `{r['name']}`: {cell(r.get('status', ''))}: {cell(r.get('reason') or '')}"
            )
    text = "\n".join(lines).rstrip() + "\n"
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 40] + "\n\n… (cut to fit)\n"


def _problem(new: int, stale: int) -> str:
    parts = [f"{new} new break(s)"] if new else []
    if stale:
        parts.append(f"{stale} accepted break(s) no longer happen")
    return ", ".join(parts)
