"""The typed records read and write compat.json's records unchanged; a run's key and label."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.model import outcome
from harness.model.record import (
    Axis,
    Outcome,
    RecordError,
    RunRecord,
    Status,
    StepResult,
    Transition,
    TransitionKind,
    pair_label,
    run_key,
    run_label,
)

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
DOCUMENTS = [GOLDEN / "report" / "compat.json", GOLDEN / "matrix_small.json"]


def exact(value: Any) -> str:
    """JSON text as compat.json writes it: 0 and 0.0, true and 1 differ here as they do there."""
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.parent.name + "/" + p.name)
def test_every_golden_record_round_trips(path: Path) -> None:
    document = json.loads(path.read_text())
    for run in document["runs"]:
        assert exact(RunRecord.from_json(run).to_json()) == exact(run)
        for step in run["steps"]:
            assert exact(StepResult.from_json(step).to_json()) == exact(step)
    for transition in document.get("transitions", []):
        assert exact(Transition.from_json(transition).to_json()) == exact(transition)


def test_a_record_of_an_older_format_says_what_it_lacks() -> None:
    document = json.loads((GOLDEN / "matrix_small.json").read_text())
    run = RunRecord.from_json(document["runs"][0])
    assert {"segments", "duration_s", "workdir"} <= run.missing
    assert "runtime" not in run.missing and "from" not in run.missing
    step = run.steps[0]
    assert {"line", "detail", "expect", "met", "why", "duration_s"} <= step.missing
    assert step.detail == {} and step.met is None
    # transitions written before the upgrade axes: what they compared, not written back
    old = json.loads((GOLDEN / "report" / "compat.json").read_text())["transitions"]
    upgrade = Transition.from_json(next(t for t in old if t["upgrade"]))
    assert upgrade.axis is Axis.CONTROL
    assert upgrade.before_run == pair_label(upgrade.from_, upgrade.from_)
    assert upgrade.after_run == pair_label(upgrade.from_, upgrade.to)
    assert {"axis", "before_run", "after_run", "changed"} <= upgrade.missing
    release = Transition.from_json(next(t for t in old if not t["upgrade"]))
    assert (release.axis, release.before_run, release.after_run) == (
        Axis.RELEASE,
        release.from_,
        release.to,
    )


def test_unknown_keys_and_optional_nulls_are_kept() -> None:
    step = {"index": 0, "op": "call", "outcome": "ok", "later": {"a": [1]}, "stderr_tail": None}
    parsed = StepResult.from_json(step)
    assert parsed.extra == {"later": {"a": [1]}, "stderr_tail": None}
    assert parsed.stderr_tail is None
    assert parsed.to_json() == step


def test_plain_and_upgrade_runs_have_one_key_and_label() -> None:
    plain = {"scenario": "s", "params_id": "p=1", "runtime": "wasmtime-27.0.2", "outcome": "ok"}
    upgrade = {
        "scenario": "u",
        "params_id": "",
        "from": "wasmtime-27.0.2",
        "to": "wasmtime-50.0.1",
        "outcome": "error",
    }
    foreign = {**plain, "producer": "wasmer-1.1.0-universal-cranelift"}
    for record, label in (
        (plain, "wasmtime-27.0.2"),
        (foreign, "wasmtime-27.0.2"),  # another family's first segment: still this runtime's run
        (upgrade, "wasmtime-27.0.2→wasmtime-50.0.1"),
    ):
        typed = RunRecord.from_json(record)
        assert typed.label == run_label(record) == label
        assert typed.key == run_key(record) == (record["scenario"], record["params_id"], label)
        assert typed.to_json() == record
    assert not RunRecord.from_json(plain).is_upgrade
    assert RunRecord.from_json(upgrade).is_upgrade
    assert not RunRecord.from_json(upgrade).is_control
    control = RunRecord.from_json({**upgrade, "to": upgrade["from"]})
    assert control.is_control and control.label == "wasmtime-27.0.2→wasmtime-27.0.2"
    assert RunRecord.from_json(foreign).producer == "wasmer-1.1.0-universal-cranelift"
    # a missing params_id is the empty one, as everywhere a key is made
    assert run_key({"scenario": "s", "runtime": "r"}) == ("s", "", "r")


def test_a_run_is_on_one_runtime_or_from_one_to_another() -> None:
    with pytest.raises(RecordError, match="a `runtime`, or a `from` and a `to`"):
        RunRecord(scenario="s", outcome=Outcome.OK)
    with pytest.raises(RecordError, match="a `runtime`, or a `from` and a `to`"):
        RunRecord(scenario="s", outcome=Outcome.OK, runtime="a", consumer="b")


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"index": "0", "op": "call", "outcome": "ok"}, "'index' must be an integer, got '0'"),
        ({"index": 0, "op": "call", "outcome": "fine"}, "'outcome' must be one of ok, error"),
        ({"index": 0, "op": "call", "outcome": "ok", "met": "yes"}, "'met' must be true"),
        ({"index": 0, "op": "call", "outcome": "ok", "detail": []}, "'detail' must be an obj"),
    ],
)
def test_a_malformed_record_says_which_key(record: dict[str, Any], message: str) -> None:
    with pytest.raises(RecordError, match=message):
        StepResult.from_json(record)


def test_enum_values_are_the_strings_json_holds() -> None:
    words = ["ok", "error", "crash", "timeout", "unsupported", "not_run"]
    assert [o.value for o in Outcome] == words
    assert [*outcome.OUTCOMES, outcome.NOT_RUN] == words  # the worker's constants are these
    assert [s.value for s in Status] == ["pass", "fail", "unsupported", "not_run"]
    assert [k.value for k in TransitionKind] == ["break", "fix", "drift", "flaky", "same"]
    assert [a.value for a in Axis] == ["release", "control", "consumer", "producer"]
    assert (
        Outcome.OK == "ok" and f"{Outcome.NOT_RUN}" == "not_run" and str(Axis.CONTROL) == "control"
    )
    assert json.dumps({"kind": TransitionKind.BREAK}) == '{"kind": "break"}'
