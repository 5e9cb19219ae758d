"""Terminal output: a progress line while runs go, and a table with one row per run."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any, TextIO

from harness.worker.outcome import describe

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
        label = f"{record['case']} on {record['runtime']}"[:40]
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {label:<40}"
        )
        self.stream.flush()

    def finish(self) -> None:
        if self.live:
            self.stream.write("\r" + " " * (shutil.get_terminal_size().columns - 1) + "\r")
            self.stream.flush()


def table(runs: list[dict[str, Any]]) -> str:
    rows = [("status", "scenario", "runtime", "outcome", "detail")]
    for run in runs:
        rows.append(
            (
                {"pass": "PASS", "unsupported": "UNSUP"}.get(run["status"], "FAIL"),
                run["case"],
                run["runtime"],
                f"{SYMBOLS.get(run['outcome'], '?')} {run['outcome']}",
                _detail(run),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for row in rows:
        cells = [row[i].ljust(widths[i]) for i in range(4)]
        lines.append("  ".join([*cells, row[4]]).rstrip())
    return "\n".join(lines)


def _detail(run: dict[str, Any]) -> str:
    return " ".join(_explain(run).split())[:160]


def _explain(run: dict[str, Any]) -> str:
    failed = next((s for s in run["steps"] if s.get("met") is False), None)
    if failed is not None:
        where = (
            f"step {failed['index'] + 1} ({failed['op']})" if failed["index"] >= 0 else "teardown"
        )
        line = f" line {failed['line']}" if failed.get("line") else ""
        return f"{where}{line}: {failed.get('why') or describe(failed)}"
    if run["outcome"] != "ok":
        step = next(s for s in run["steps"] if s["outcome"] == run["outcome"])
        return f"as expected: {describe(step)}"
    return ""
