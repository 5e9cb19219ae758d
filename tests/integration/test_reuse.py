"""Result reuse on a real runtime: a second run of unchanged inputs runs nothing and says so in
every output; an edited scenario runs its row; a damaged entry, a timed-out run and --fresh run
again. Real wasmtime, real workers, the CLI as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.model.runtime import Runtime

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

ADD = """\
params:
  - {a: 1}
  - {a: 2}
steps:
  - compile: add
  - instantiate
  - call: {export: add, args: ["${a}", 1]}
"""
TRAP = """\
steps:
  - compile: traps
  - instantiate
  - call: {export: unreachable, expect: {trap: unreachable}}
"""
HANG = """\
timeout: 1
steps:
  - compile: loop
  - instantiate
  - call: {export: spin, expect: %s}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "add.yaml").write_text(ADD)
    (scenarios / "trap.yaml").write_text(TRAP)
    return tmp_path


def run(
    project: Path, *extra: str, expect: int = 0
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    out = project / "out"
    command = [
        sys.executable, "-m", "harness", "run", str(project / "scenarios"),
        "--fixtures", str(ROOT / "wasm_fixtures"), "--python", sys.executable,
        "--results-cache", str(project / "cache"), "--out", str(out), "--reruns", "0",
        "--baseline", str(project / "none.yaml"), *extra,
    ]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == expect, proc.stdout + proc.stderr
    return proc, json.loads((out / "compat.json").read_text())


def reused(document: dict[str, Any]) -> set[str]:
    return {r["case"] for r in document["runs"] if r.get("reused")}


def test_unchanged_inputs_run_nothing_and_every_output_says_so(
    project: Path, own_wasmtime: Runtime
) -> None:
    first, before = run(project)
    assert reused(before) == set() and "reusing 0 run(s)" in first.stdout
    second, after = run(project)
    assert reused(after) == {"add[a=1]", "add[a=2]", "trap"}
    assert "reusing 3 run(s) whose inputs are unchanged" in second.stdout
    assert "running 0" in second.stdout and "PASS ↺" in second.stdout
    assert not any(s for r in after["runs"] for s in r["segments"] if r.get("reused") is None)
    # the outcomes are what they were, and so is the verdict
    assert [(r["case"], r["outcome"], r["status"]) for r in after["runs"]] == [
        (r["case"], r["outcome"], r["status"]) for r in before["runs"]
    ]
    assert after["summary"]["reused"] == 3
    out = project / "out"
    assert "3 reused, their inputs unchanged" in (out / "summary.md").read_text()
    assert "reused (inputs unchanged, not run again)" in (out / "compat.html").read_text()
    cases = ET.parse(out / "junit.xml").getroot().iter("testcase")
    assert all("reused: not run again" in (c.findtext("system-out") or "") for c in cases)


def test_an_edited_scenario_runs_its_row_only(project: Path, own_wasmtime: Runtime) -> None:
    run(project)
    path = project / "scenarios" / "add.yaml"
    path.write_text(path.read_text().replace("{a: 2}", "{a: 3}"))
    _, after = run(project)
    assert reused(after) == {"trap"}
    assert {r["case"] for r in after["runs"]} == {"add[a=1]", "add[a=3]", "trap"}


def test_a_damaged_entry_runs_again_and_is_replaced(project: Path, own_wasmtime: Runtime) -> None:
    run(project)
    entries = sorted((project / "cache" / "runs").glob("*/*.json"))
    assert len(entries) == 3
    for entry in entries:
        entry.write_bytes(entry.read_bytes()[:40])
    proc, after = run(project)
    assert reused(after) == set() and "Traceback" not in proc.stderr
    _, again = run(project)
    assert reused(again) == {"add[a=1]", "add[a=2]", "trap"}


def test_fresh_runs_everything_and_keeps_it(project: Path, own_wasmtime: Runtime) -> None:
    run(project)
    proc, fresh = run(project, "--fresh")
    assert reused(fresh) == set() and "--fresh: reusing no kept result" in proc.stdout
    _, after = run(project)
    assert reused(after) == {"add[a=1]", "add[a=2]", "trap"}


def test_a_run_that_timed_out_unexpectedly_is_never_reused(
    project: Path, own_wasmtime: Runtime
) -> None:
    (project / "scenarios" / "hang.yaml").write_text(HANG % "ok")
    run(project, "-k", "hang", expect=1)
    _, again = run(project, "-k", "hang", expect=1)
    (hang,) = again["runs"]
    assert hang["outcome"] == "timeout" and not hang.get("reused")
    assert not list((project / "cache" / "runs").glob("*/*.json"))


def test_a_hang_its_scenario_states_is_reused(project: Path, own_wasmtime: Runtime) -> None:
    (project / "scenarios" / "hang.yaml").write_text(HANG % "timeout")
    run(project, "-k", "hang")
    _, again = run(project, "-k", "hang")
    (hang,) = again["runs"]
    assert hang["outcome"] == "timeout" and hang["status"] == "pass" and hang.get("reused")
