"""The gate: one exit code for a result set, and the coverage every output leads with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.analysis import diff, gate
from harness.errors import ExitCode
from harness.worker import segment


def run(name: str, status: str = "pass", **extra: Any) -> dict[str, Any]:
    steps = extra.pop("steps", [{"index": 0, "op": "call", "outcome": "ok", "values": []}])
    return {
        "scenario": "s",
        "params_id": "",
        "runtime": name,
        "status": status,
        "outcome": "ok",
        "steps": steps,
        **extra,
    }


def document(runs: list[dict[str, Any]], runtimes: list[dict[str, Any]]) -> dict[str, Any]:
    transitions = diff.transitions(runs, runtimes)
    return {
        "runtimes": runtimes,
        "runs": runs,
        "transitions": transitions,
        "verdict": {"new_breaks": [], "stale_entries": [], "unchecked_entries": []},
        "summary": {
            "harness_errors": sum(
                1 for r in runs for s in r["steps"] if s.get("error_kind") == "harness"
            )
        },
    }


OK_32 = {"name": "wasmtime-32.0.0", "status": "ok"}
OK_33 = {"name": "wasmtime-33.0.0", "status": "ok"}
CPU = "cannot compile a trivial module: assertion failed: res.eax == 0"


def test_a_failed_run_fails_the_gate_even_with_transitions() -> None:
    doc = document([run("wasmtime-32.0.0", "fail"), run("wasmtime-33.0.0", "fail")], [OK_32, OK_33])
    assert doc["transitions"]  # the old gate looked only at breaks once there was a transition
    decision = gate.gate(doc)
    assert decision.code == ExitCode.FAILURES
    assert decision.reasons == ("2 run(s) missed their expectation",)


def test_a_clean_result_set_passes() -> None:
    doc = document([run("wasmtime-32.0.0"), run("wasmtime-33.0.0")], [OK_32, OK_33])
    assert gate.gate(doc) == gate.Decision(ExitCode.OK)


def test_a_harness_error_exits_3_and_is_never_diffed() -> None:
    bug = {"index": 0, "op": "call", "outcome": "error", "error_kind": "harness"}
    runs = [run("wasmtime-32.0.0"), run("wasmtime-33.0.0", "fail", steps=[bug])]
    doc = document(runs, [OK_32, OK_33])
    assert doc["transitions"] == []  # not a break of wasmtime 33: a bug of ours
    assert gate.gate(doc).code == ExitCode.INTERNAL_ERROR


def test_required_runtimes_that_did_not_run_fail_with_their_reason() -> None:
    broken = {"name": "wasmtime-0.20.0", "status": "unavailable", "reason": CPU}
    doc = document([run("wasmtime-33.0.0")], [broken, OK_33])
    assert gate.gate(doc).code == ExitCode.FAILURES  # by default every runtime is required
    assert gate.gate(doc, ["wasmtime-[1-9]*"]).code == ExitCode.OK
    assert gate.gate(doc, ["none"]).code == ExitCode.OK
    decision = gate.gate(doc, ["wasmtime-0.20", "wasmtime-33"])
    assert decision.reasons == ("1 required runtime(s) did not run: wasmtime-0.20.0",)


def test_coverage_names_what_did_not_run_grouped_by_reason() -> None:
    runtimes = [
        OK_33,
        {"name": "wasmer-1.0.0-jit-cranelift", "status": "unavailable", "reason": CPU},
        {"name": "wasmer-1.0.0-jit-singlepass", "status": "unavailable", "reason": CPU},
        {"name": "wasmer-1.1.0-universal-llvm", "status": "not provisioned", "reason": "no 3.9"},
    ]
    entry = {"scenario": "s", "params": "", "from": "a", "to": "b", "after": "error"}
    doc = {"runtimes": runtimes, "verdict": {"unchecked_entries": [entry]}}
    assert gate.coverage_lines(doc) == [
        "1 of 4 runtime(s) ran; 3 did not:",
        f"  wasmer-1.0.0-jit-cranelift, wasmer-1.0.0-jit-singlepass: not usable: {CPU}",
        "  wasmer-1.1.0-universal-llvm: not provisioned: no 3.9",
        "1 baseline entr(y/ies) not checked by this run:",
        "  s a → b (error)",
    ]


def test_a_bug_in_our_own_code_is_a_harness_error_not_the_runtimes() -> None:
    seg = segment.Segment(adapter=None, workdir="/nonexistent", fixtures={})  # type: ignore[arg-type]
    try:
        seg._table("table")  # a lookup in our own step code that fails
    except KeyError as exc:
        found = segment._harness_bug(exc)
    assert found is not None and found["error_kind"] == "harness"
    assert (
        "a bug in wasm-compat" in found["message"]
        and "harness/worker/segment.py:" in found["message"]
    )
    # a KeyError from a runtime's own code (any file outside the harness package) is the runtime's
    namespace: dict[str, Any] = {}
    exec(
        compile("def theirs():\n    raise KeyError('x')\n", "/site-packages/rt.py", "exec"),
        namespace,
    )
    try:
        namespace["theirs"]()
    except KeyError as exc:
        assert segment._harness_bug(exc) is None
    # an error type a runtime raises on purpose is never taken for ours
    try:
        raise RuntimeError("wasm trap")
    except RuntimeError as exc:
        assert segment._harness_bug(exc) is None


MISSED = """\
description: a call whose stated result no release returns
steps:
  - compile: add
  - instantiate
  - call: {export: add, args: [2, 40], results: [43]}
"""


@pytest.mark.integration
@pytest.mark.matrix
def test_a_matrix_run_that_misses_an_expectation_exits_1(
    scenario_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from runtime_envs import release

    from harness.cli import main as cli

    (scenario_dir / "missed.yaml").write_text(MISSED)
    pythons = [release("wasmtime", v).python for v in ("32.0.0", "33.0.0")]
    args = ["run", str(scenario_dir), "--out", str(tmp_path / "out"), "--reruns", "0"]
    args += ["--baseline", str(tmp_path / "none.yaml")]
    for python in pythons:
        args += ["--python", python]
    assert cli.main(args) == ExitCode.FAILURES
    out = capsys.readouterr()
    assert "2 run(s): 0 passed, 2 failed" in out.out
    assert "transitions: 0 break, 0 fix, 0 drift, 0 flaky, 1 same" in out.out
    assert "wasm-compat: 2 run(s) missed their expectation" in out.err
