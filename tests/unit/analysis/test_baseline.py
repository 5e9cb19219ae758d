"""The baseline: which breaks are new, which accepted ones no longer happen, and its file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.analysis import baseline, diff
from harness.analysis.baseline import BaselineError

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "matrix_small.json"


def transitions() -> list[dict[str, Any]]:
    doc = json.loads(GOLDEN.read_text())
    return diff.transitions(doc["runs"], doc["runtimes"])


def test_without_a_baseline_every_break_is_new() -> None:
    verdict = baseline.judge(transitions(), [])
    assert len(verdict.new) == 5  # 4 outcome breaks and multi-memory's wrong result
    assert verdict.accepted == [] and verdict.stale == []


def test_accepting_makes_them_old_and_keeps_reasons(tmp_path: Path) -> None:
    path = tmp_path / "compat-baseline.yaml"
    entries = baseline.accept(transitions(), [])
    entries[0]["reason"] = "wasmtime refuses foreign artifacts by design"
    baseline.save(path, entries)
    loaded = baseline.load(path)
    assert loaded == entries
    assert "Fill in each `reason`" in path.read_text()
    verdict = baseline.judge(transitions(), loaded)
    assert verdict.new == [] and len(verdict.accepted) == 5
    assert {"after": "wrong result", "scenario": "features"}.items() <= loaded[0].items()
    again = baseline.accept(transitions(), loaded)
    assert again[0]["reason"] == "wasmtime refuses foreign artifacts by design"


def test_an_accepted_interval_covers_a_release_pinned_inside_it() -> None:
    trap = next(t for t in transitions() if t["scenario"] == "traps" and t["kind"] == "break")
    wide = baseline.entry_for(trap) | {"from": "wasmtime-0.20.0", "to": "wasmtime-99.0.0"}
    assert baseline.covers(wide, trap)
    narrow = baseline.entry_for(trap) | {"from": "wasmtime-30.0.0"}
    assert not baseline.covers(narrow, trap)
    other_class = baseline.entry_for(trap) | {"after": "crash"}
    assert not baseline.covers(other_class, trap)


def test_an_upgrade_entry_names_its_pairs_with_globs() -> None:
    refused = {
        "scenario": "upgrade_serialized_imports",
        "params": "",
        "family": "wasmtime",
        "line": "wasmtime",
        "upgrade": True,
        "from": "wasmtime-27.0.1",
        "to": "wasmtime-50.0.1",
        "kind": "break",
        "before": {"outcome": "ok"},
        "after": {"outcome": "error"},
    }
    every_pair = baseline.entry_for(refused) | {"from": "wasmtime-*", "to": "wasmtime-*"}
    assert baseline.covers(every_pair, refused)
    crossing = refused | {"line": "wasmer-jit-cranelift→wasmer-universal-singlepass"}
    assert not baseline.covers(every_pair, crossing)
    assert baseline.covers(every_pair | {"line": "wasmer-*", "from": "*", "to": "*"}, crossing)
    # release transitions keep exact lines and version intervals
    release = refused | {"upgrade": False}
    assert not baseline.covers(every_pair | {"upgrade": False}, release)


def test_an_accepted_break_that_no_longer_happens_is_stale() -> None:
    gone = {
        "scenario": "traps",
        "params": "",
        "line": "wasmtime",
        "upgrade": False,
        "from": "wasmtime-0.20.0",
        "to": "wasmtime-0.30.0",
        "after": "crash",
        "reason": "",
    }
    not_here = gone | {"scenario": "never_ran"}
    verdict = baseline.judge(transitions(), [gone, not_here])
    assert verdict.stale == [gone]
    assert verdict.unchecked == [not_here]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("format: 1\naccepted:\n  - scenario: x\n", "x.yaml:3: entry lacks line, from, to, after"),
        ("format: 2\n", "x.yaml:1: expected a mapping with `format: 1`"),
        ("format: 1\naccepted: [\n", "x.yaml:3:"),
        (
            "format: 1\naccepted:\n- {scenario: a, line: w, from: a, to: b, after: ok, why: x}\n",
            "x.yaml:3: unknown key(s) why",
        ),
    ],
)
def test_a_bad_baseline_file_is_one_line_with_where(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    with pytest.raises(BaselineError) as caught:
        baseline.load(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_baseline_is_empty(tmp_path: Path) -> None:
    assert baseline.load(tmp_path / "none.yaml") == []


def test_a_wrong_result_entry_does_not_accept_an_outcome_break() -> None:
    wrong = next(t for t in transitions() if t.get("wrong_result"))
    entry = baseline.entry_for(wrong)
    assert entry["after"] == "wrong result" and baseline.covers(entry, wrong)
    assert not baseline.covers(entry | {"after": "ok"}, wrong)


def test_an_axis_narrows_an_upgrade_entry() -> None:
    upgrade = next(t for t in transitions() if t["upgrade"] and t["kind"] == "break")
    entry = baseline.entry_for(upgrade)
    assert baseline.covers(entry, upgrade) and upgrade["axis"] == "control"
    assert not baseline.covers(entry | {"axis": "consumer"}, upgrade)
