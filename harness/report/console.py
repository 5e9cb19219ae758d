"""Terminal output: a progress line while runs go, and a table with one row per run."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from harness.model.outcome import describe
from harness.model.record import run_label
from harness.report.common import boundary, case_id, kind_label, side, visible

SYMBOLS = {
    "ok": "✓",
    "error": "✗",
    "crash": "☠",
    "timeout": "⌛",
    "unsupported": "-",
    "not_run": "·",
}


class Progress:
    """A one-line bar on a terminal; nothing when output is piped (CI logs stay readable)."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total = total
        self.done = 0
        self.stream = stream
        self.live = stream.isatty() and total > 1 and os.environ.get("TERM") != "dumb"

    def advance(self, record: dict[str, Any]) -> None:
        self.done += 1
        if not self.live:
            return
        width = max(10, min(40, shutil.get_terminal_size().columns - 60))
        filled = int(width * self.done / self.total)
        label = visible(f"{record['case']} on {run_label(record)}")[:40]
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {label:<40}"
        )
        self.stream.flush()

    def finish(self) -> None:
        if self.live:
            self.stream.write("\r" + " " * (shutil.get_terminal_size().columns - 1) + "\r")
            self.stream.flush()


STATUS = {"pass": "PASS", "unsupported": "UNSUP", "not_run": "SKIP", "fail": "FAIL"}


def reuse_line(reused: int, to_run: int, blocked: int, cache: Path, fresh: bool) -> str:
    """What the result cache saved this run, for the console before the runs start; `blocked`
    of the `to_run` cannot run (their runtime is not usable here)."""
    cannot = f" ({blocked} more cannot run here)" if blocked else ""
    if fresh:
        return (
            f"--fresh: reusing no kept result; running {to_run - blocked} run(s){cannot}, "
            f"keeping them in {cache}"
        )
    return (
        f"reusing {reused} run(s) whose inputs are unchanged, from {cache}; "
        f"running {to_run - blocked}{cannot} (--fresh runs everything)"
    )


REUSED_MARK = "↺"  # beside a reused run's status: it did not run now, its inputs are unchanged


def table(runs: list[dict[str, Any]]) -> str:
    rows = [("status", "scenario", "runtime", "outcome", "detail")]
    for run in runs:
        mark = f" {REUSED_MARK}" if run.get("reused") else ""
        rows.append(
            (
                STATUS.get(run["status"], "FAIL") + mark,
                run["case"],
                run_label(run),
                f"{SYMBOLS.get(run['outcome'], '?')} {run['outcome']}",
                _detail(run),
            )
        )
    return _columns(rows)


def _columns(given: Sequence[tuple[str, ...]]) -> str:
    """Left-aligned columns; the last one runs free. Every cell one line, control characters
    visible: a runtime's ESC or CR must not drive the terminal."""
    rows = [tuple(" ".join(visible(str(c)).split()) for c in row) for row in given]
    last = len(rows[0]) - 1
    widths = [max(len(r[i]) for r in rows) for i in range(last)]
    lines = []
    for row in rows:
        cells = [row[i].ljust(widths[i]) for i in range(last)]
        lines.append("  ".join([*cells, row[last]]).rstrip())
    return "\n".join(lines)


def transitions_table(transitions: list[dict[str, Any]]) -> str:
    rows = [("kind", "scenario", "from → to", "before → after")]
    for t in transitions:
        rows.append(
            (
                kind_label(t).upper(),
                case_id(t),
                boundary(t),
                f"{side(t['before'], 70)} → {side(t['after'], 70)}",
            )
        )
    return _columns(rows)


def runtimes_table(runtimes: list[dict[str, Any]]) -> str:
    rows = [("runtime", "state", "worker", "installed", "reason")]
    for r in runtimes:
        # the version its worker reported: a Python worker's comes with its interpreter's; a Go
        # worker has none, and reported its own when usable (unusable, it is tox.ini's pin)
        reported = r.get("python") or r.get("status") == "ok"
        installed = f"{r.get('family')} {r.get('version')}" if reported else "-"
        # a Python worker: its interpreter's version and path; any other: its command line
        worker = (
            f"{r['python']} {r.get('interpreter') or ''}"
            if r.get("python")
            else " ".join(r.get("worker") or []) or r.get("interpreter") or "?"
        )
        rows.append((r["name"], r["status"], worker, installed, r.get("reason") or ""))
    return _columns(rows)


def _detail(run: dict[str, Any]) -> str:
    return " ".join(_explain(run).split())[:160]


def _explain(run: dict[str, Any]) -> str:
    if run["status"] == "not_run":
        return str(run.get("reason") or "not run")
    failed = next((s for s in run["steps"] if s.get("met") is False), None)
    if failed is not None:
        where = (
            f"step {failed['index'] + 1} ({failed['op']})" if failed["index"] >= 0 else "teardown"
        )
        line = f" line {failed['line']}" if failed.get("line") else ""
        return f"{where}{line}: {failed.get('why') or describe(failed)}"
    known = f" (known: {'; '.join(run['known'])})" if run.get("known") else ""
    if run["outcome"] != "ok":
        step = next(s for s in run["steps"] if s["outcome"] == run["outcome"])
        return f"as expected: {describe(step)}{known}"
    return known.strip()
