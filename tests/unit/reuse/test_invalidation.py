"""Changing any one input of a run invalidates exactly the runs it touches, and no others.

A real suite (scenario files and fixtures in a scratch project, built as `run` builds them) is
planned on runtimes whose env identities are given; every planned run is kept in a cache, one
input is changed, and the runs the cache then misses are compared with the runs that input
belongs to. No runtime runs here: which runs are reused is decided before anything runs.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from harness.execution import coordinator
from harness.model.runtime import Runtime
from harness.reuse.inputs import RunContext
from harness.reuse.session import Reuse
from harness.scenario.suite import load_suite

ROOT = Path(__file__).resolve().parents[3]

PLAIN = """\
steps:
  - compile: {fixture}
  - instantiate
  - call: {{export: add, args: [1, 2], results: [3]}}
"""
WITH_PARAMS = """\
params:
  - {a: 1}
  - {a: 2}
steps:
  - compile: add
  - instantiate
  - call: {export: add, args: ["${a}", 1]}
"""
UPGRADE = """\
upgrade: true
steps:
  - compile: add
  - serialize: {to: add.bin}
  - restart
  - deserialize: {from: add.bin}
"""
TIMED = """\
timeout: 5
steps:
  - compile: add
"""
RUNTIMES = {"wasmtime-40.0.0": "id-40", "wasmtime-41.0.0": "id-41", "wasmtime-42.0.0": "id-42"}
CONTEXT = RunContext(harness="0.9.0+aaaa", host="host-1", memory_mb=2048, isolation="fork")

Key = tuple[str, str, str]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    fixtures = tmp_path / "wasm_fixtures"
    fixtures.mkdir()
    shutil.copy(ROOT / "wasm_fixtures" / "add.wat", fixtures / "add.wat")
    shutil.copy(ROOT / "wasm_fixtures" / "add.wat", fixtures / "other.wat")
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "plain.yaml").write_text(PLAIN.format(fixture="add"))
    (scenarios / "own_fixture.yaml").write_text(PLAIN.format(fixture="other"))
    (scenarios / "with_params.yaml").write_text(WITH_PARAMS)
    (scenarios / "upgrade.yaml").write_text(UPGRADE)
    (scenarios / "timed.yaml").write_text(TIMED)
    return tmp_path


def runtimes(identities: dict[str, str]) -> list[Runtime]:
    return [
        Runtime(name, "python", "wasmtime", name.split("-")[1], identity=identity)
        for name, identity in identities.items()
    ]


def misses(
    project: Path,
    change: Callable[[Path], None] | None = None,
    identities: dict[str, str] = RUNTIMES,
    context: RunContext = CONTEXT,
    timeout: float = 60.0,
) -> set[Key]:
    """Keep every run of the unchanged project, apply `change`, plan again: the runs missed."""
    kept = _planned_reuse(project, RUNTIMES, CONTEXT, 60.0)
    for reuse, item in kept:
        inputs = reuse.inputs(item)
        assert inputs is not None
        reuse.entries.put(inputs.key, _record(item))
    if change is not None:
        change(project)
    again = _planned_reuse(project, identities, context, timeout)
    reuse = again[0][0]
    _, to_run = reuse.partition([item for _, item in again])
    return {p.key for p in to_run}


def _planned_reuse(
    project: Path, identities: dict[str, str], context: RunContext, timeout: float
) -> list[tuple[Reuse, coordinator.Planned]]:
    suite = load_suite([project / "scenarios"], build=True)
    assert not suite.errors, suite.errors
    reuse = Reuse(project / "cache", context, suite, timeout)
    planned = coordinator.plan(suite.cases(), runtimes(identities))
    return [(reuse, item) for item in planned]


def _record(item: coordinator.Planned) -> dict[str, object]:
    return {"scenario": item.case.scenario.name, "status": "pass", "outcome": "ok", "steps": []}


def every_run(project: Path) -> set[Key]:
    return {p.key for _, p in _planned_reuse(project, RUNTIMES, CONTEXT, 60.0)}


def test_nothing_changed_misses_nothing(project: Path) -> None:
    assert misses(project) == set()


def test_an_edited_scenario_misses_its_row_only(project: Path) -> None:
    def edit(root: Path) -> None:
        path = root / "scenarios" / "with_params.yaml"
        path.write_text(path.read_text().replace('["${a}", 1]', '["${a}", 2]'))

    assert misses(project, edit) == {k for k in every_run(project) if k[0] == "with_params"}


def test_an_edited_upgrade_scenario_misses_its_pairs_only(project: Path) -> None:
    def edit(root: Path) -> None:
        path = root / "scenarios" / "upgrade.yaml"
        path.write_text(path.read_text() + "# a comment is part of the text\n")

    missed = misses(project, edit)
    assert missed == {k for k in every_run(project) if k[0] == "upgrade"}
    assert len(missed) == 9  # every ordered pair of three releases, controls included


def test_changed_fixture_bytes_miss_the_runs_given_that_module(project: Path) -> None:
    def edit(root: Path) -> None:
        path = root / "wasm_fixtures" / "other.wat"
        path.write_text(path.read_text() + "\n;; other bytes? no: same module, other text\n")

    # a comment does not change the built bytes: nothing is missed
    assert misses(project, edit) == set()

    def rebuild(root: Path) -> None:
        path = root / "wasm_fixtures" / "other.wat"
        path.write_text(path.read_text().replace("(module", '(module (func (export "extra"))', 1))

    assert misses(project, rebuild) == {k for k in every_run(project) if k[0] == "own_fixture"}


def test_another_runtime_env_misses_its_column_and_its_pairs(project: Path) -> None:
    changed = {**RUNTIMES, "wasmtime-41.0.0": "id-41-reinstalled"}
    missed = misses(project, identities=changed)
    assert missed == {k for k in every_run(project) if "wasmtime-41.0.0" in k[2]}
    assert len(missed) == 5 + 5  # 5 plain runs on it; 5 upgrade pairs it is a side of


def test_an_added_release_runs_its_column_and_the_pairs_it_joins(project: Path) -> None:
    added = {**RUNTIMES, "wasmtime-43.0.0": "id-43"}
    missed = misses(project, identities=added)
    assert missed and all("wasmtime-43.0.0" in label for _, _, label in missed)
    assert len(missed) == 5 + 7  # 5 plain runs; pairs with each of the 3 others both ways, + A→A


def test_an_unknown_runtime_identity_is_never_reused(project: Path) -> None:
    unknown = {**RUNTIMES, "wasmtime-42.0.0": ""}
    assert misses(project, identities=unknown) == {
        k for k in every_run(project) if "wasmtime-42.0.0" in k[2]
    }


@pytest.mark.parametrize(
    "context",
    [
        replace(CONTEXT, host="host-2"),
        replace(CONTEXT, harness="0.9.1+aaaa"),
        replace(CONTEXT, harness="0.9.0+bbbb"),  # the same version number, edited sources
        replace(CONTEXT, memory_mb=512),
        replace(CONTEXT, isolation="spawn"),
    ],
    ids=["host", "harness version", "harness sources", "memory cap", "isolation"],
)
def test_what_every_run_shares_misses_every_run(project: Path, context: RunContext) -> None:
    assert misses(project, context=context) == every_run(project)


def test_the_default_timeout_misses_the_runs_that_use_it(project: Path) -> None:
    missed = misses(project, timeout=30.0)
    assert missed == {k for k in every_run(project) if k[0] != "timed"}  # timed sets its own
