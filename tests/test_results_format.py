"""Result files from another format, or damaged, are refused with a message that says what to
do; a results.jsonl cut short mid-line is read up to the last whole record."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import ResultsError
from harness.results import read_jsonl, read_results

ROOT = Path(__file__).resolve().parent.parent
HEADER = {"kind": "header", "format": 1, "started": "2026-01-01T00:00:00+00:00", "options": {}}


def diff(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "diff", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": 2, "runs": []}', "results format 2, this wasm-compat reads format 1; re-run"),
        ('{"format": 1, "runs": [', "cannot read results"),
        ("[]", "results format None"),
    ],
)
def test_a_newer_or_damaged_compat_json_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "compat.json"
    path.write_text(text)
    with pytest.raises(ResultsError, match=r"re-run|cannot read|format None"):
        read_results(path)
    proc = diff(path)
    assert proc.returncode == 2 and message in proc.stderr and proc.stderr.count("\n") == 1


def test_a_jsonl_cut_mid_line_keeps_every_whole_record(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    run = {"kind": "run", "scenario": "s", "params_id": "", "runtime": "wasmtime-1.0.0"}
    path.write_text(json.dumps(HEADER) + "\n" + json.dumps(run) + "\n" + '{"kind": "run", "sc')
    assert [r["scenario"] for r in read_jsonl(path)["runs"]] == ["s"]
    path.write_text(json.dumps(HEADER | {"format": 7}) + "\n")
    with pytest.raises(ResultsError, match="results format 7, this wasm-compat reads format 1"):
        read_jsonl(path)
    path.write_text(json.dumps(HEADER) + "\nnot json\n" + json.dumps(run) + "\n")
    with pytest.raises(ResultsError, match=r"results.jsonl:2: not a JSON record"):
        read_jsonl(path)
