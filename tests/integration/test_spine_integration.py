"""The bundled scenarios, end to end, on the wasmtime installed in this interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("own_wasmtime")]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.fixture(scope="module")
def bundled_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], dict, Path]:
    root = Path(__file__).resolve().parents[2]
    out = tmp_path_factory.mktemp("bundled")
    proc = run_cli("run", "--out", str(out), cwd=root)
    return proc, json.loads((out / "compat.json").read_text()), out


def test_every_bundled_scenario_meets_its_expectations(bundled_run: tuple) -> None:
    proc, doc, _ = bundled_run
    failing = [(r["case"], r["reason"]) for r in doc["runs"] if r["status"] == "fail"]
    assert failing == [], proc.stdout
    assert proc.returncode == 0, proc.stderr
    assert doc["summary"]["harness_errors"] == 0


def test_crash_and_timeout_are_pinned_on_their_step(bundled_run: tuple) -> None:
    _, doc, _ = bundled_run
    runs = {r["case"]: r for r in doc["runs"]}
    crash = runs["deserialize_code_flip_crash"]["steps"][-1]
    assert (crash["op"], crash["outcome"], crash["signal"]) == ("call", "crash", "SIGSEGV")
    timeout = runs["infinite_loop_timeout"]["steps"][-1]
    assert (timeout["op"], timeout["outcome"]) == ("call", "timeout")
    host_exit = runs["host_exit_crash"]["steps"][-1]
    assert (host_exit["outcome"], host_exit["exit_code"]) == ("crash", 7)


def test_compat_json_and_results_jsonl_shape(bundled_run: tuple) -> None:
    _, doc, out = bundled_run
    assert doc["format"] == 2
    (runtime,) = doc["runtimes"]
    assert runtime["family"] == "wasmtime"
    assert runtime["version"] == metadata.version("wasmtime")
    step_keys = {
        "op",
        "outcome",
        "error_type",
        "message",
        "normalized_message",
        "signal",
        "exit_code",
        "duration_s",
    }
    for run in doc["runs"]:
        assert {"scenario", "params", "outcome", "steps"} <= set(run)
        # an upgrade run names its producer and consumer instead of one runtime
        assert ("runtime" in run) != ({"from", "to"} <= set(run))
        for step in run["steps"]:
            assert step_keys <= set(step)
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert lines[0]["kind"] == "header" and lines[0]["format"] == 2
    assert sum(1 for line in lines if line["kind"] == "run") == len(doc["runs"])


def test_cache_hit_is_visible_after_restart(bundled_run: tuple) -> None:
    _, doc, _ = bundled_run
    run = next(r for r in doc["runs"] if r["case"] == "cache_dir_restart")
    first, second = (s for s in run["steps"] if s["op"] == "compile")
    assert first["detail"]["cache_files_before"] == 0 and first["detail"]["cache_files_after"] > 0
    assert (first["detail"]["cache"], second["detail"]["cache"]) == ("miss", "hit")
    assert first["met"] and second["met"] and second["detail"]["compile_s"] > 0


def test_timeout_leaves_no_process_behind(tmp_path: Path, project_root: Path) -> None:
    out = tmp_path / "out"
    proc = run_cli("run", "-k", "infinite_loop", "--out", str(out), cwd=project_root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert processes_under(out) == []


def processes_under(folder: Path) -> list[str]:
    """Processes whose working directory is inside folder: our workers run in the work dir."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cwd.startswith(str(folder)):
            found.append(entry.name)
    return found


def test_bad_scenario_exits_2_with_one_line(
    tmp_path: Path, scenario_dir: Path, project_root: Path
) -> None:
    (scenario_dir / "bad.yaml").write_text("steps:\n  - compile: add\n  - call: {export: 5}\n")
    proc = run_cli("run", str(scenario_dir), "--out", str(tmp_path / "o"), cwd=project_root)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "bad.yaml:3: step 2 (call): 'export' must be a string, found 5" in proc.stderr


def test_missing_runtime_is_reported_not_crashed(tmp_path: Path, project_root: Path) -> None:
    venv = tmp_path / "empty"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    proc = run_cli(
        "run",
        "-k",
        "compile_call",
        "--python",
        str(venv / "bin" / "python"),
        "--out",
        str(tmp_path / "o"),
        cwd=project_root,
    )
    assert proc.returncode == 2
    # the coverage lines (stdout) name the runtime and why; the error line (stderr) says no run
    assert "not usable: RuntimeUnavailable: wasmtime is not installed" in proc.stdout + proc.stderr
    assert "no usable runtime" in proc.stderr


def test_an_observation_that_fails_ends_the_run_as_intended(
    tmp_path: Path, scenario_dir: Path, project_root: Path
) -> None:
    (scenario_dir / "observe.yaml").write_text(
        "steps:\n"
        "  - compile: {fixture: feature_exceptions_legacy, expect: any}\n"
        "  - instantiate\n"
        "  - restart\n"
        "  - compile: add\n"
    )
    out = tmp_path / "o"
    proc = run_cli("run", str(scenario_dir), "--out", str(out), cwd=project_root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run,) = json.loads((out / "compat.json").read_text())["runs"]
    assert run["status"] == "pass"
    first, *rest = run["steps"]
    assert first["outcome"] == "error" and first["met"] is True  # wasmtime 50 refuses legacy EH
    assert [(s["outcome"], s["met"]) for s in rest] == [("not_run", True), ("not_run", True)]
    assert all("was an observation that ended error" in s["why"] for s in rest)
    assert len(run["segments"]) == 1  # the segment after the restart never started
