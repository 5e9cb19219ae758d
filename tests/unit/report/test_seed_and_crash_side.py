"""How a transition's side reads when a crash's stderr said why, and where a seed scenario's
findings come in the report and in docs/findings.md."""

from __future__ import annotations

from typing import Any

from harness.report import findings, html
from harness.report.common import side

PANIC = "panic: runtime error: invalid memory address or nil pointer dereference"


def test_a_crash_whose_stderr_said_why_names_the_step_and_the_cause() -> None:
    crash = {"outcome": "crash", "exit_code": 2, "op": "close"}
    said = side({**crash, "message": f"worker exited with 2: {PANIC}"}, 200)
    assert said == f"crash (exit 2 at close: {PANIC})"
    assert side({**crash, "message": "worker exited with 2"}) == "crash (exit 2)"
    signalled = {"outcome": "crash", "signal": "SIGSEGV", "op": "call"}
    assert side({**signalled, "message": "worker killed by SIGSEGV"}) == "crash (SIGSEGV)"


def _break(scenario: str) -> dict[str, Any]:
    side_ = {"outcome": "ok"}
    return {
        "scenario": scenario,
        "params": "",
        "line": "wazero-compiler",
        "family": "wazero",
        "from": "wazero-1.6.0-compiler",
        "to": "wazero-1.7.0-compiler",
        "kind": "break",
        "upgrade": False,
        "axis": "release",
        "before": side_,
        "after": {"outcome": "crash"},
        "changed": ["outcome"],
        "before_run": "wazero-1.6.0-compiler",
        "after_run": "wazero-1.7.0-compiler",
    }


def _document() -> dict[str, Any]:
    runs = [
        {"scenario": "a_first_by_name", "tags": ["lifecycle"], "path": "scenarios/a.yaml"},
        {"scenario": "the_seed", "tags": ["cache", "seed"], "path": "scenarios/s.yaml"},
    ]
    return {
        "runs": runs,
        "runtimes": [],
        "transitions": [_break("a_first_by_name"), _break("the_seed")],
    }


def test_a_seed_scenario_s_findings_come_first() -> None:
    document = _document()
    assert [c["t"]["scenario"] for c in html.changes(document)] == ["the_seed", "a_first_by_name"]
    table = [line for line in findings.render(document).splitlines() if line.startswith("| ")]
    assert table[1].startswith("| the_seed ") and table[2].startswith("| a_first_by_name ")
