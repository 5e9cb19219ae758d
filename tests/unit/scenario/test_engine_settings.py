"""Engine settings by name (`engine: {settings: {NAME: VALUE}}`): what a compile step is sent,
how a step's settings add to the scenario's, and the one line each mistake gets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario
from harness.scenario.model import cases


def engines(folder: Path, text: str) -> list[dict[str, Any]]:
    path = folder / "s.yaml"
    path.write_text(text)
    return [
        step.args["engine"]
        for case in cases(load_scenario(path))
        for step in case.segments[0]
        if step.op in ("compile", "deserialize")
    ]


def test_settings_reach_the_worker_as_written(scenario_dir: Path) -> None:
    """Names and values verbatim, with their YAML types: nothing renamed or translated."""
    (engine,) = engines(
        scenario_dir,
        "engine: {settings: {cranelift_opt_level: speed, parallel_compilation: false,"
        " max_wasm_stack: 65536, ratio: 0.5}}\nsteps:\n  - compile: add\n",
    )
    assert engine == {
        "settings": {
            "cranelift_opt_level": "speed",
            "parallel_compilation": False,
            "max_wasm_stack": 65536,
            "ratio": 0.5,
        }
    }


def test_a_steps_settings_add_to_the_scenarios(scenario_dir: Path) -> None:
    first, second = engines(
        scenario_dir,
        "engine: {fuel: 10, settings: {a: 1, b: x}}\nsteps:\n  - compile: add\n"
        "  - compile: {fixture: add, as: n, engine: {settings: {b: y, c: true}}}\n",
    )
    assert first == {"fuel": 10, "settings": {"a": 1, "b": "x"}}
    assert second == {"fuel": 10, "settings": {"a": 1, "b": "y", "c": True}}


def test_a_setting_from_a_parameter_keeps_its_type(scenario_dir: Path) -> None:
    found = engines(
        scenario_dir,
        "params: [{v: speed}, {v: 3}, {v: false}]\n"
        'steps:\n  - compile: {fixture: add, engine: {settings: {level: "${v}"}}}\n',
    )
    assert [e["settings"]["level"] for e in found] == ["speed", 3, False]


SCALAR = "must be a boolean or an integer or a number or a string"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("{Opt: 1}", "'engine.settings': must match ^[a-z][a-z0-9_]*$, found \"Opt\""),
        ("{opt: [1]}", f"'engine.settings.opt': {SCALAR}, found [1]"),
        ("{opt: {a: 1}}", f"'engine.settings.opt': {SCALAR}, found {{\"a\": 1}}"),
        ("{opt: null}", f"'engine.settings.opt': {SCALAR}, found null"),
        ("[opt]", "'engine.settings': must be a mapping, found [\"opt\"]"),
    ],
)
def test_a_setting_that_is_not_a_name_and_a_scalar_is_refused(
    scenario_dir: Path, settings: str, message: str
) -> None:
    with pytest.raises(ScenarioError, match=re.escape(f"s.yaml:1: {message}")):
        engines(scenario_dir, f"engine: {{settings: {settings}}}\nsteps:\n  - compile: add\n")
