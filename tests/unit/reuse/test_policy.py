"""Which runs are kept for reuse, and how a kept run reads when it is reused."""

from __future__ import annotations

from typing import Any

import pytest

from harness.model.runtime import Runtime
from harness.reuse.policy import as_reused, probe_keepable, why_not_kept


def run(**fields: Any) -> dict[str, Any]:
    record = {
        "scenario": "s",
        "runtime": "wasmtime-50.0.1",
        "status": "pass",
        "outcome": "ok",
        "steps": [{"index": 0, "op": "compile", "outcome": "ok"}],
        "workdir": None,
    }
    return {**record, **fields}


def test_a_hang_the_scenario_states_is_kept() -> None:
    hang = {"index": 2, "outcome": "timeout", "met": True, "expect": {"kind": "timeout"}}
    assert why_not_kept(run(steps=[hang])) is None
    assert why_not_kept(run(steps=[{**hang, "met": False}])) is not None


def test_a_run_that_passed_failed_or_crashed_is_kept() -> None:
    assert why_not_kept(run()) is None
    assert why_not_kept(run(status="fail", outcome="error")) is None
    crashed = [{"index": 0, "op": "call", "outcome": "crash", "signal": "SIGSEGV"}]
    assert why_not_kept(run(outcome="crash", steps=crashed)) is None


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"status": "not_run", "outcome": "not_run"}, "it did not run"),
        ({"flaky": True}, "it was flaky"),
        ({"segment_retried": "segment 0 killed from outside by SIGKILL"}, "killed from outside"),
        ({"steps": [{"index": 1, "op": "call", "outcome": "timeout"}]}, "timed out"),
        (
            {"steps": [{"outcome": "timeout", "met": False, "expect": {"kind": "ok"}}]},
            "did not say it would",
        ),
        ({"steps": [{"index": 0, "outcome": "error", "error_kind": "harness"}]}, "harness"),
        ({"reused": {"key": "k", "ran": "t"}}, "reused already"),
    ],
)
def test_what_may_differ_next_time_is_never_kept(fields: dict[str, Any], why: str) -> None:
    found = why_not_kept(run(**fields))
    assert found is not None and why in found


def test_a_reused_run_takes_todays_identity_and_says_when_it_ran() -> None:
    kept = run(path="/old/place/s.yaml", workdir="/old/out/work/x", duration_s=1.5, reruns=[])
    planned = {"scenario": "s", "path": "/new/place/s.yaml", "runtime": "wasmtime-50.0.1"}
    reused = as_reused(kept, planned, "key", "2026-11-30T10:00:00+00:00")
    assert reused["path"] == "/new/place/s.yaml" and reused["workdir"] is None
    assert reused["reused"] == {"key": "key", "ran": "2026-11-30T10:00:00+00:00"}
    assert reused["duration_s"] == 1.5 and reused["reruns"] == []  # how it went is kept
    assert "producer" not in as_reused(run(producer="wazero-1.12.0-compiler"), planned, "k", "")


@pytest.mark.parametrize(
    ("reason", "kept"),
    [
        (None, True),
        ("cannot compile a trivial module: crash (SIGABRT): panicked at 'res.eax == 0'", True),
        ("RuntimeUnavailable: importing wasmer_compiler_llvm ends the interpreter", True),
        ("a trivial module's compile did not finish", False),
        ("cannot compile a trivial module: timeout (no result within 120 s)", False),
        ("the worker died before it was ready: crash (SIGKILL)", False),
    ],
)
def test_a_probe_is_kept_unless_it_failed_by_chance(reason: str | None, kept: bool) -> None:
    found = Runtime("wasmer-1.1.0-universal-llvm", "python", unavailable=reason)
    assert probe_keepable(found) is kept
