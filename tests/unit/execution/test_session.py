"""The run plan, tox.ini reading, and the shards' missing upgrade pairs: no processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import RuntimeSelectionError
from harness.execution import coordinator as session
from harness.execution.probe import runtime_state
from harness.model.runtime import Runtime
from harness.provision.toxenvs import load_project
from harness.scenario.suite import load_suite
from harness.store import merge

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"


def runtimes(*names: str) -> list[Runtime]:
    return [Runtime(n, f"/envs/{n}/bin/python", family=n.split("-")[0]) for n in names]


def test_plan_runs_plain_cases_per_runtime_and_upgrades_per_pair() -> None:
    suite = load_suite(
        [SCENARIOS / "compile_call_close.yaml", SCENARIOS / "upgrade_serialized_imports.yaml"]
    )
    cases = suite.cases()
    rts = runtimes("wasmtime-1.0.0", "wasmtime-2.0.0", "wasmer-1.1.0-dylib-llvm")
    planned = session.plan(cases, rts)
    labels = [p.label for p in planned]
    assert labels[:3] == ["wasmtime-1.0.0", "wasmtime-2.0.0", "wasmer-1.1.0-dylib-llvm"]
    assert sorted(labels[3:]) == sorted(
        [
            "wasmtime-1.0.0→wasmtime-1.0.0",
            "wasmtime-1.0.0→wasmtime-2.0.0",
            "wasmtime-2.0.0→wasmtime-1.0.0",
            "wasmtime-2.0.0→wasmtime-2.0.0",
            "wasmer-1.1.0-dylib-llvm→wasmer-1.1.0-dylib-llvm",
        ]
    )
    assert len(session.plan(cases, rts, cross_family=True)) == 3 + 9


def test_a_blocked_runtime_gives_its_reason() -> None:
    suite = load_suite([SCENARIOS / "compile_call_close.yaml"])
    rt = Runtime("wasmer-1.1.0-dylib-llvm", "/x", unavailable="no CPython 3.9", provisioned=False)
    (planned,) = session.plan(suite.cases(), [rt])
    record = session.execute(planned, suite, Path("/nonexistent"), session.Limits(1, 1))
    assert record["outcome"] == "not_run" and record["status"] == "not_run"
    assert record["reason"] == "wasmer-1.1.0-dylib-llvm not provisioned: no CPython 3.9"
    assert {s["outcome"] for s in record["steps"]} == {"not_run"}


def test_an_other_family_case_is_produced_by_the_newest_usable_runtime_of_the_other_family() -> (
    None
):
    suite = load_suite([SCENARIOS / "deserialize_other_family.yaml"])
    rts = [
        Runtime("wasmtime-3.0.0", "/a", family="wasmtime", version="3.0.0"),
        Runtime("wasmtime-50.0.1", "/b", family="wasmtime", version="50.0.1"),
        Runtime("wasmer-1.1.0-universal-llvm", "/c", family="wasmer", unavailable="ld.so"),
        Runtime("wasmer-1.0.0-jit-cranelift", "/d", family="wasmer", version="1.0.0"),
        Runtime("wasmer-1.1.0-universal-cranelift", "/e", family="wasmer", version="1.1.0"),
        Runtime("wasmer-1.1.0-dylib-cranelift", "/f", family="wasmer", version="1.1.0"),
    ]
    planned = {p.label: p for p in session.plan(suite.cases(), rts)}
    assert {label: p.producer.name for label, p in planned.items() if p.producer} == {
        "wasmtime-3.0.0": "wasmer-1.1.0-universal-cranelift",
        "wasmtime-50.0.1": "wasmer-1.1.0-universal-cranelift",
        "wasmer-1.1.0-universal-llvm": "wasmtime-50.0.1",  # blocked by its own problem
        "wasmer-1.0.0-jit-cranelift": "wasmtime-50.0.1",
        "wasmer-1.1.0-universal-cranelift": "wasmtime-50.0.1",
        "wasmer-1.1.0-dylib-cranelift": "wasmtime-50.0.1",
    }
    (alone,) = session.plan(suite.cases(), rts[:1])
    assert (
        alone.blocked == "no usable runtime of another family in this run to produce the artifact"
    )
    record = session.execute(alone, suite, Path("/nonexistent"), session.Limits(1, 1))
    assert record["outcome"] == "not_run" and record["runtime"] == "wasmtime-3.0.0"


TOX_INI = """\
[tox]
env_list =
    python39
    wasmtime-{0.20.0, 50.0.1}
    wasmer-1.1.0-{dylib}-{llvm}
    lint
"""


def test_runtimes_come_from_tox_ini(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOX_WORK_DIR", raising=False)
    ini = tmp_path / "tox.ini"
    ini.write_text(TOX_INI)
    project = load_project(ini)
    assert [s.name for s in project.specs] == [
        "wasmtime-0.20.0",
        "wasmtime-50.0.1",
        "wasmer-1.1.0-dylib-llvm",
    ]
    assert project.env_python(project.specs[0]) == tmp_path / ".tox/wasmtime-0.20.0/bin/python"
    state = runtime_state(project, project.specs[0], tmp_path / "scratch")
    assert state.status == "not provisioned"
    assert state.problem == "not provisioned: no tox env yet (run `tox -e wasmtime-0.20.0`)"


def test_a_bad_runtime_name_in_tox_ini_points_at_its_line(tmp_path: Path) -> None:
    ini = tmp_path / "tox.ini"
    ini.write_text("[tox]\nenv_list =\n    python39\n    wasmtime-{1.0.0, next}\n")
    with pytest.raises(RuntimeSelectionError, match=r"tox.ini:4: runtime 'wasmtime-next'"):
        load_project(ini)


def test_upgrade_pairs_split_across_shards_are_found() -> None:
    def run(a: str, b: str) -> dict[str, object]:
        return {"scenario": "u", "params_id": "", "path": "u.yaml", "from": a, "to": b}

    joined = {
        "runtimes": [
            {"name": "wasmtime-1.0.0", "family": "wasmtime", "status": "ok"},
            {"name": "wasmtime-2.0.0", "family": "wasmtime", "status": "ok"},
            {"name": "wasmtime-3.0.0", "family": "wasmtime", "status": "not provisioned"},
        ],
        "runs": [run("wasmtime-1.0.0", "wasmtime-1.0.0"), run("wasmtime-2.0.0", "wasmtime-2.0.0")],
    }
    missing = [(a, b) for _, a, b in merge.missing_pairs(joined)]
    assert missing == [("wasmtime-1.0.0", "wasmtime-2.0.0"), ("wasmtime-2.0.0", "wasmtime-1.0.0")]


def test_jobs_do_not_change_what_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    import random
    import time

    suite = load_suite([SCENARIOS / "compile_call_close.yaml", SCENARIOS / "traps.yaml"])
    planned = session.plan(suite.cases(), runtimes("wasmtime-1.0.0", "wasmtime-2.0.0"))

    def fake_execute(item: session.Planned, *_: object) -> dict[str, object]:
        time.sleep(random.random() / 200)  # finish in a different order each time
        return {"scenario": item.case.scenario.name, "label": item.label, "id": item.case.id}

    monkeypatch.setattr(session, "execute", fake_execute)

    def collected(jobs: int) -> list[object]:
        seen: list[dict[str, object]] = []
        runs = session.run_all(
            planned, suite, Path("/unused"), session.Limits(1, 1), seen.append, jobs
        )
        assert runs == seen  # reported once each, in the order recorded
        return sorted((r["id"], r["label"]) for r in runs)  # type: ignore[type-var]

    assert collected(1) == collected(4)
    assert len(collected(4)) == len(planned)


def test_a_run_that_never_happened_shows_why_in_the_table() -> None:
    from harness.report import console

    suite = load_suite([SCENARIOS / "compile_call_close.yaml"])
    rt = Runtime("wasmer-1.1.0-dylib-llvm", "/x", unavailable="no CPython 3.9", provisioned=False)
    (planned,) = session.plan(suite.cases(), [rt])
    record = session.execute(planned, suite, Path("/nonexistent"), session.Limits(1, 1))
    row = console.table([record]).splitlines()[1]
    assert row.startswith("SKIP")
    assert "wasmer-1.1.0-dylib-llvm not provisioned: no CPython 3.9" in row
