"""Result files from another format, or damaged, are refused with a message that says what to
do; a results.jsonl cut short mid-line is read up to the last whole record; both record the host
their runs came from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import ResultsError
from harness.host import current_host
from harness.store.results import (
    ResultsWriter,
    compat_document,
    read_jsonl,
    read_results,
    write_compat,
)

ROOT = Path(__file__).resolve().parents[3]
HEADER = {"kind": "header", "format": 2, "started": "2026-01-01T00:00:00+00:00", "options": {}}
GOLDEN = ROOT / "tests" / "golden" / "report" / "compat.json"  # written in format 1


def diff(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "diff", str(path), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": 3, "runs": []}', "results format 3, this wasm-compat reads formats 1 to 2;"),
        ('{"format": 1, "runs": [', "cannot read results"),
        ("[]", "results format None, not a wasm-compat results file"),
    ],
)
def test_a_newer_or_damaged_compat_json_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "compat.json"
    path.write_text(text)
    with pytest.raises(ResultsError, match=r"upgrade wasm-compat|cannot read|format None"):
        read_results(path)
    proc = diff(path)
    assert proc.returncode == 2 and message in proc.stderr and proc.stderr.count("\n") == 1


def test_a_jsonl_cut_mid_line_keeps_every_whole_record(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    run = {"kind": "run", "scenario": "s", "params_id": "", "runtime": "wasmtime-1.0.0"}
    path.write_text(json.dumps(HEADER) + "\n" + json.dumps(run) + "\n" + '{"kind": "run", "sc')
    assert [r["scenario"] for r in read_jsonl(path)["runs"]] == ["s"]
    path.write_text(json.dumps(HEADER | {"format": 7}) + "\n")
    with pytest.raises(ResultsError, match="results format 7, this wasm-compat reads formats 1"):
        read_jsonl(path)
    path.write_text(json.dumps(HEADER) + "\nnot json\n" + json.dumps(run) + "\n")
    with pytest.raises(ResultsError, match=r"results.jsonl:2: not a JSON record"):
        read_jsonl(path)


def test_a_format_1_document_is_migrated(tmp_path: Path) -> None:
    old = json.loads(GOLDEN.read_text())
    assert old["format"] == 1 and "known" not in old["summary"]
    document = read_results(GOLDEN)
    assert (document["format"], document["migrated_from"]) == (2, 1)
    assert document["summary"]["known"] == 0
    segments = [s for r in document["runs"] for s in r["segments"]]
    assert segments and all(s["isolation"] == "spawn" for s in segments)
    # and a command reads it as it reads its own
    proc = diff(GOLDEN, "--baseline", str(tmp_path / "none.yaml"))
    assert proc.returncode == 1 and "9 new break(s)" in proc.stdout
    jsonl = tmp_path / "results.jsonl"
    header = HEADER | {"format": 1}
    del header["options"]
    jsonl.write_text(
        json.dumps(header) + "\n" + json.dumps({"kind": "run"} | old["runs"][0]) + "\n"
    )
    (run,) = read_jsonl(jsonl)["runs"]
    assert {s["isolation"] for s in run["segments"]} <= {"spawn"}


def test_results_record_their_host_and_a_read_back_document_keeps_it(tmp_path: Path) -> None:
    here = current_host().to_json()
    writer = ResultsWriter(tmp_path, {"jobs": 1})
    writer.close()
    header = json.loads((tmp_path / "results.jsonl").read_text().splitlines()[0])
    assert header["host"] == here
    assert read_jsonl(tmp_path / "results.jsonl")["host"] == here
    # a results.jsonl from before hosts were recorded: unknown, not this machine
    (tmp_path / "results.jsonl").write_text(json.dumps(HEADER) + "\n")
    assert read_results(tmp_path)["host"] is None
    assert compat_document([], [], "")["host"] == here  # runs that just ran here
    elsewhere = here | {"cpu_model": "AMD EPYC 7763 64-Core Processor"}
    document = compat_document([], [], "", host=elsewhere)
    assert document["host"] == elsewhere and "hosts" not in document
    unknown = compat_document([], [], "", host=None, hosts=[{"results": "a", "host": None}])
    assert unknown["host"] is None and unknown["hosts"] == [{"results": "a", "host": None}]
    write_compat(tmp_path, document)
    assert read_results(tmp_path)["host"] == elsewhere
    # a compat.json from before hosts were recorded reads as it did
    assert "host" not in read_results(GOLDEN)


def _run_record(name: str) -> dict:
    return {
        "kind": "run",
        "scenario": name,
        "params_id": "",
        "runtime": "wasmtime-1.0.0",
        "path": "s.yaml",
        "case": name,
        "status": "pass",
        "outcome": "ok",
        "steps": [],
    }


def test_a_torn_last_line_is_trimmed_on_resume_and_survives_two_resumes_and_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "results.jsonl"
    torn = '{"kind": "run", "scenario": "cut'
    path.write_text(json.dumps(HEADER) + "\n" + json.dumps(_run_record("a")) + "\n" + torn)
    for name in ("b", "c"):  # each a `--resume`: read what is there, then append
        assert [r["scenario"] for r in read_jsonl(path)["runs"]][-1] != name
        writer = ResultsWriter(tmp_path, resume=True)
        writer.run({k: v for k, v in _run_record(name).items() if k != "kind"})
        writer.close()
        if name == "b":
            assert writer.trimmed == len(torn)
            assert f"results.jsonl: trimmed a torn last line ({len(torn)} bytes)" in (
                capsys.readouterr().err
            )
        else:
            assert writer.trimmed == 0 and "trimmed" not in capsys.readouterr().err
    assert torn not in path.read_text()
    assert [r["scenario"] for r in read_jsonl(path)["runs"]] == ["a", "b", "c"]
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "report", str(tmp_path), "--out", str(tmp_path / "r")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert "not a JSON record" not in proc.stderr and (tmp_path / "r" / "summary.md").exists()


def test_a_whole_last_record_without_its_newline_is_kept_on_resume(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps(HEADER) + "\n" + json.dumps(_run_record("a")))
    writer = ResultsWriter(tmp_path, resume=True)
    writer.run({k: v for k, v in _run_record("b").items() if k != "kind"})
    writer.close()
    assert writer.trimmed == 0
    assert [r["scenario"] for r in read_jsonl(path)["runs"]] == ["a", "b"]


def test_a_torn_line_is_skipped_only_when_it_is_the_last(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    run = json.dumps(_run_record("a"))
    path.write_text(json.dumps(HEADER) + "\n" + run + '\n{"kind": "ru\n\n')
    assert [r["scenario"] for r in read_jsonl(path)["runs"]] == ["a"]
    path.write_text(json.dumps(HEADER) + '\n{"kind": "ru\n\n' + run + "\n")
    with pytest.raises(ResultsError, match=r"results.jsonl:2: not a JSON record"):
        read_jsonl(path)
