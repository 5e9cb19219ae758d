"""`wasm-compat new` skeletons validate; `wasm-compat schema` is the shipped schema; every bundled
scenario points editors at it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.scenario import scaffold
from harness.scenario.suite import load_suite

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "wasm_fixtures").symlink_to(ROOT / "wasm_fixtures")
    return tmp_path


@pytest.mark.parametrize("template", sorted(scaffold.TEMPLATES))
def test_each_template_writes_a_scenario_that_validates(project: Path, template: str) -> None:
    path = scaffold.new_scenario(f"my_{template}", project / "scenarios", template)
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert "TODO: say what breaks" in text
    suite = load_suite([path], build=True)
    assert suite.errors == [] and [s.name for s in suite.scenarios] == [f"my_{template}"]


def test_new_from_a_scenario_file_and_the_mistakes(project: Path) -> None:
    source = ROOT / "scenarios" / "double_close.yaml"
    path = scaffold.new_scenario("mine", project / "scenarios", str(source))
    assert "# mine: made from" in path.read_text() and load_suite([path]).errors == []
    with pytest.raises(HarnessError, match="exists"):
        scaffold.new_scenario("mine", project / "scenarios")
    with pytest.raises(HarnessError, match="a-z, 0-9 and _"):
        scaffold.new_scenario("My Scenario", project / "scenarios")
    with pytest.raises(HarnessError, match="--from takes a template"):
        scaffold.new_scenario("other", project / "scenarios", "nonsense")


def test_schema_is_the_shipped_file_and_every_bundled_scenario_names_it() -> None:
    shipped = json.loads((ROOT / "harness" / "schema" / "scenario.schema.json").read_text())
    assert json.loads(scaffold.print_schema()) == shipped
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../harness/schema/scenario.schema.json", (
            path
        )
