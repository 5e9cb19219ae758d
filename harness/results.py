"""The results store: results.jsonl appended as each run ends, compat.json written at the end.

Every file carries a format version. results.jsonl holds one JSON object a line: a header, then
`runtime` and `run` records in the order they happened, so a crash of the coordinator loses
at most the runs in flight.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import IO, Any

import harness
from harness.errors import ResultsError

FORMAT = 1
RUNTIME_KEYS = ("name", "family", "version", "variant")


class ResultsWriter:
    def __init__(self, out: Path) -> None:
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.path = out / "results.jsonl"
        try:
            self._file: IO[str] = self.path.open("w", encoding="utf-8")
        except OSError as exc:
            raise ResultsError(f"cannot write {self.path}: {exc.strerror}") from None
        self._write(
            {"kind": "header", "format": FORMAT, "harness": harness.__version__, "started": now()}
        )

    def _write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, sort_keys=True, default=str) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def runtime(self, record: dict[str, Any]) -> None:
        self._write({"kind": "runtime", **record})

    def run(self, record: dict[str, Any]) -> None:
        self._write({"kind": "run", **record})

    def close(self) -> None:
        self._file.close()


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def compat_document(
    runtimes: list[dict[str, Any]], runs: list[dict[str, Any]], started: str
) -> dict[str, Any]:
    order = {r["name"]: i for i, r in enumerate(runtimes)}
    ordered = sorted(
        runs, key=lambda r: (r["path"], r["params_id"], order.get(r["runtime"], 1 << 30))
    )
    return {
        "format": FORMAT,
        "harness": harness.__version__,
        "started": started,
        "finished": now(),
        "runtimes": runtimes,
        "runs": ordered,
        "summary": summarize(ordered),
    }


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    by_outcome: dict[str, int] = {}
    for run in runs:
        by_outcome[run["outcome"]] = by_outcome.get(run["outcome"], 0) + 1
    return {
        "runs": len(runs),
        "passed": sum(1 for r in runs if r["status"] == "pass"),
        "failed": sum(1 for r in runs if r["status"] == "fail"),
        "unsupported": sum(1 for r in runs if r["status"] == "unsupported"),
        "harness_errors": sum(
            1 for r in runs for s in r["steps"] if s.get("error_kind") == "harness"
        ),
        "outcomes": dict(sorted(by_outcome.items())),
    }


def write_compat(out: Path, document: dict[str, Any]) -> Path:
    path = out / "compat.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, indent=1, sort_keys=True, default=str) + "\n")
    tmp.replace(path)
    return path


def read_compat(path: Path) -> dict[str, Any]:
    try:
        document: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: cannot read results ({exc})") from None
    version = document.get("format") if isinstance(document, dict) else None
    if version != FORMAT:
        raise ResultsError(
            f"{path}: results format {version!r}, this wasm-compat reads format {FORMAT}; "
            "re-run `wasm-compat run` or upgrade wasm-compat"
        )
    return document
