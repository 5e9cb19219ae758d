"""The results store: results.jsonl appended as each run ends, compat.json written at the end.

Every file carries a format version. results.jsonl holds one JSON object a line: a header, then
`runtime` and `run` records in the order they happened, so a crash of the coordinator loses
at most the runs in flight. Both record the host the runs came from (`harness.host`); a file
written before hosts were recorded reads as host None (unknown), with no change of format.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys
import time
from pathlib import Path
from typing import IO, Any, Final, Literal

import harness
from harness.errors import ResultsError
from harness.host import current_host
from harness.model.record import run_key

# 2: segments record their isolation, runs what known behaviour applied, the results.jsonl
# header the run's options and `rerun` records follow runs. Format 1 files are migrated on read.
FORMAT = 2
OLDEST = 1
_SPAWN_ONLY = "recorded before warm workers existed (results format 1)"
HERE: Final = "here"  # compat_document's default host: this machine, where the runs just ran


def _check_format(version: Any, where: str) -> None:
    if isinstance(version, int) and not isinstance(version, bool) and OLDEST <= version <= FORMAT:
        return
    if isinstance(version, int) and version > FORMAT:
        raise ResultsError(
            f"{where}: results format {version}, this wasm-compat reads formats {OLDEST} to "
            f"{FORMAT}; upgrade wasm-compat (pip install -U wasm-compat) to read it"
        )
    raise ResultsError(
        f"{where}: results format {version!r}, not a wasm-compat results file this version "
        "reads; re-run `wasm-compat run` to make one"
    )


def migrate_run(run: dict[str, Any], version: int) -> dict[str, Any]:
    """A run record of an older format, in today's: format 1 ran every segment in a fresh
    interpreter and had no known behaviour."""
    if version < 2:
        for segment in run.get("segments") or []:
            segment.setdefault("isolation", "spawn")
            segment.setdefault("isolation_reason", _SPAWN_ONLY)
    return run


def migrate(document: dict[str, Any]) -> dict[str, Any]:
    version = document["format"]
    if version < FORMAT:
        for run in document.get("runs", []):
            migrate_run(run, version)
        document.setdefault("summary", {}).setdefault(
            "known", sum(1 for r in document.get("runs", []) if r.get("known"))
        )
        document["format"], document["migrated_from"] = FORMAT, version
    return document


RUNTIME_KEYS = ("name", "family", "version", "variant")


class ResultsWriter:
    """results.jsonl: a header (with the run's options, so `--resume` can finish it), then each
    runtime, run and rerun as it ends, written through to the OS at once, so a killed run loses
    only what was in flight. `resume` appends to an existing file instead.

    The disk is synced at most every `SYNC_EVERY_S` (and at close): an fsync per record cost
    2 ms here, which on 6000 runs was more than a fully reused matrix's whole run, serialized
    under the coordinator's lock. A killed coordinator loses nothing written (the page cache
    outlives it); only the machine's own crash can lose the last second, which `--resume`
    runs again."""

    SYNC_EVERY_S = 1.0

    def __init__(
        self, out: Path, options: dict[str, Any] | None = None, resume: bool = False
    ) -> None:
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.path = out / "results.jsonl"
        self.trimmed = 0  # bytes of a torn last line dropped on resume
        self._synced = 0.0  # time.monotonic() of the last fsync
        try:
            if resume:
                self.trimmed = trim_torn_line(self.path)
            self._file: IO[str] = self.path.open("a" if resume else "w", encoding="utf-8")
        except OSError as exc:
            raise ResultsError(f"cannot write {self.path}: {exc.strerror}") from None
        if self.trimmed:
            print(
                f"{self.path.name}: trimmed a torn last line ({self.trimmed} bytes)",
                file=sys.stderr,
            )
        if not resume:
            header = {"kind": "header", "format": FORMAT, "harness": harness.__version__}
            host = current_host().to_json()
            self._write({**header, "started": now(), "options": options or {}, "host": host})

    def _write(self, *records: dict[str, Any], sync: bool = False) -> None:
        lines = [json.dumps(r, sort_keys=True, default=str) + "\n" for r in records]
        self._file.write("".join(lines))
        self._file.flush()
        if sync or time.monotonic() - self._synced >= self.SYNC_EVERY_S:
            self._sync()

    def _sync(self) -> None:
        os.fsync(self._file.fileno())
        self._synced = time.monotonic()

    def runtime(self, record: dict[str, Any]) -> None:
        self._write({"kind": "runtime", **record})

    def run(self, record: dict[str, Any]) -> None:
        self._write({"kind": "run", **record})

    def runs(self, records: list[dict[str, Any]]) -> None:
        """Many runs at once (those reused from the cache): one write, one sync."""
        if records:
            self._write(*({"kind": "run", **r} for r in records), sync=True)

    def rerun(self, key: tuple[str, str, str], reruns: list[Any], flaky: bool) -> None:
        self._write({"kind": "rerun", "key": list(key), "reruns": reruns, "flaky": flaky})

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            self._sync()
        self._file.close()


def trim_torn_line(path: Path) -> int:
    """Ends results.jsonl at its last complete line, so what a resume appends starts a line of
    its own and the torn one never ends up in the middle; returns the bytes dropped. A last line
    that is a whole record but lost only its newline gets the newline instead."""
    with path.open("r+b") as file:
        size = file.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        tail_start = max(0, size - (1 << 20))
        file.seek(tail_start)
        tail = file.read()
        if tail.endswith(b"\n"):
            return 0
        newline = tail.rfind(b"\n")
        if newline < 0 and tail_start > 0:  # a last line over 1 MiB: find where it starts
            file.seek(0)
            whole = file.read()
            newline, tail_start = whole.rfind(b"\n"), 0
            tail = whole
        end = tail_start + newline + 1  # 0 when the file has no complete line
        if _is_record(tail[newline + 1 :]):
            file.write(b"\n")
            return 0
        file.truncate(end)
        file.flush()
        os.fsync(file.fileno())
        return size - end


def _is_record(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def compat_document(
    runtimes: list[dict[str, Any]],
    runs: list[dict[str, Any]],
    started: str,
    transitions: list[dict[str, Any]] | None = None,
    verdict: dict[str, Any] | None = None,
    host: dict[str, Any] | Literal["here"] | None = HERE,
    hosts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The whole result set; runs in a canonical order (scenario, parameters, plain before
    upgrade, runtime order), whatever order they finished in.

    `host` is where the runs came from: this machine by default; the recorded one for result
    sets read back (None when unknown, or when they come from several hosts: then `hosts` lists
    each result set's)."""
    order = {r["name"]: i for i, r in enumerate(runtimes)}

    def position(run: dict[str, Any]) -> tuple[Any, ...]:
        names = [run["runtime"]] if "runtime" in run else [run["from"], run["to"]]
        return (
            run["path"],
            run["params_id"],
            len(names),
            [order.get(n, 1 << 30) for n in names],
            names,
        )

    ordered = sorted(runs, key=position)
    document: dict[str, Any] = {
        "format": FORMAT,
        "harness": harness.__version__,
        "started": started,
        "finished": now(),
        "host": current_host().to_json() if host == HERE else host,
        "runtimes": runtimes,
        "runs": ordered,
        "transitions": transitions or [],
        "summary": summarize(ordered, transitions or []),
    }
    if hosts:
        document["hosts"] = hosts
    if verdict is not None:
        document["verdict"] = verdict
    return document


def summarize(
    runs: list[dict[str, Any]], transitions: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    by_outcome: dict[str, int] = {}
    for run in runs:
        by_outcome[run["outcome"]] = by_outcome.get(run["outcome"], 0) + 1
    by_kind: dict[str, int] = {}
    for t in transitions or []:
        by_kind[t["kind"]] = by_kind.get(t["kind"], 0) + 1
    return {
        "transitions": dict(sorted(by_kind.items())),
        "not_run": sum(1 for r in runs if r["status"] == "not_run"),
        "runs": len(runs),
        "passed": sum(1 for r in runs if r["status"] == "pass"),
        "failed": sum(1 for r in runs if r["status"] == "fail"),
        "known": sum(1 for r in runs if r.get("known")),
        "reused": sum(1 for r in runs if r.get("reused")),
        "unsupported": sum(1 for r in runs if r["status"] == "unsupported"),
        "harness_errors": sum(
            1 for r in runs for s in r["steps"] if s.get("error_kind") == "harness"
        ),
        "outcomes": dict(sorted(by_outcome.items())),
    }


def write_compat(out: Path, document: dict[str, Any], text: str | None = None) -> Path:
    """compat.json, from the document or from its `compat_text` when the caller has it."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "compat.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(compat_text(document) if text is None else text)
    tmp.replace(path)
    return path


def compat_text(document: dict[str, Any]) -> str:
    """compat.json's text: a key a line, and a run or transition a line inside their lists.
    `indent` would make json use its pure-Python encoder, ten times slower on a full matrix;
    this keeps the C one and still diffs line by line."""

    def compact(value: Any) -> str:
        return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))

    def member(value: Any) -> str:
        if isinstance(value, list) and value:
            return "[\n  " + ",\n  ".join(compact(v) for v in value) + "\n ]"
        return compact(value)

    members = [f" {compact(key)}: {member(document[key])}" for key in sorted(document)]
    return "{\n" + ",\n".join(members) + "\n}\n"


def read_compat(path: Path) -> dict[str, Any]:
    try:
        document: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: cannot read results ({exc})") from None
    version = document.get("format") if isinstance(document, dict) else None
    _check_format(version, str(path))
    return migrate(document)


def read_results(path: Path) -> dict[str, Any]:
    """A result set from a directory or file: compat.json, or else the runs that results.jsonl
    recorded before the run was cut short."""
    if path.is_dir():
        compat, jsonl = path / "compat.json", path / "results.jsonl"
        if compat.exists():
            return read_compat(compat)
        if jsonl.exists():
            return read_jsonl(jsonl)
        raise ResultsError(f"{path}: no compat.json or results.jsonl in this directory")
    if path.suffix == ".jsonl":
        return read_jsonl(path)
    return read_compat(path)


def read_jsonl(path: Path) -> dict[str, Any]:
    runtimes: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    reruns: dict[tuple[str, ...], dict[str, Any]] = {}
    started = ""
    version = FORMAT
    options: dict[str, Any] = {}
    host: dict[str, Any] | None = None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read results ({exc.strerror})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if not any(rest.strip() for rest in lines[number:]):
                continue  # the line being written when the run died (a resume trims it)
            raise ResultsError(f"{path}:{number}: not a JSON record") from None
        kind = record.pop("kind", None)
        if kind == "header":
            _check_format(record.get("format"), f"{path}:{number}")
            version = record["format"]
            started = record.get("started", "")
            options = record.get("options") or {}
            host = record.get("host")
        elif kind == "runtime":
            if all(r.get("name") != record.get("name") for r in runtimes):
                runtimes.append(record)
        elif kind == "run":
            runs.append(migrate_run(record, version))
        elif kind == "rerun":
            reruns[tuple(record["key"])] = record
    for run in runs:  # reruns recorded before a resume
        done = reruns.get(run_key(run))
        if done is not None:
            run["reruns"], run["flaky"] = done["reruns"], done["flaky"]
    return {
        "format": FORMAT,
        "started": started,
        "runtimes": runtimes,
        "runs": runs,
        "options": options,
        "host": host,
    }
