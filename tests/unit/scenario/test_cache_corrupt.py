"""Damaging the compile cache's entries after a compile (`compile: {corrupt_cache: ...}`): what a
compile step is sent, and the one line a scenario that cannot mean it gets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario
from harness.scenario.model import cases


def compile_args(folder: Path, text: str) -> list[dict[str, Any]]:
    path = folder / "s.yaml"
    path.write_text(text)
    (case,) = cases(load_scenario(path))
    return [step.args for segment in case.segments for step in segment if step.op == "compile"]


@pytest.mark.parametrize(
    "spec",
    [{"truncate": 10}, {"truncate": -3}, {"empty": True}, {"flip": [0, 7]}, {"delete": True}],
)
def test_the_corruption_reaches_the_compile_as_written(scenario_dir: Path, spec: Any) -> None:
    body = ", ".join(f"{key}: {str(value).lower()}" for key, value in spec.items())
    text = (
        "engine: {cache: {directory: cache}}\n"
        f"steps:\n  - compile: {{fixture: add, corrupt_cache: {{{body}}}}}\n"
        "  - restart\n  - compile: add\n"
    )
    first, second = compile_args(scenario_dir, text)
    assert first["corrupt_cache"] == spec
    assert "corrupt_cache" not in second


def test_a_verbatim_config_naming_a_directory_will_do(scenario_dir: Path) -> None:
    text = (
        "engine:\n  cache:\n    config: |\n      [cache]\n"
        '      directory = "${workdir}/c"\n'
        "steps:\n  - compile: {fixture: add, corrupt_cache: {empty: true}}\n"
    )
    (args,) = compile_args(scenario_dir, text)
    assert args["corrupt_cache"] == {"empty": True}


def test_offsets_may_come_from_parameters(scenario_dir: Path) -> None:
    text = (
        "params: [{keep: 4}]\nengine: {cache: {directory: cache}}\n"
        'steps:\n  - compile: {fixture: add, corrupt_cache: {truncate: "${keep}"}}\n'
    )
    (args,) = compile_args(scenario_dir, text)
    assert args["corrupt_cache"] == {"truncate": 4}


@pytest.mark.parametrize(
    ("head", "spec", "message"),
    [
        (
            "",
            "{truncate: 10}",
            "s.yaml:2: step 1 (compile): 'corrupt_cache' needs a cache directory on the engine: "
            "cache: {directory: NAME} or a config naming one, found None",
        ),
        (
            "engine: {cache: true}\n",
            "{truncate: 10}",
            "'corrupt_cache' needs a cache directory on the engine: cache: {directory: NAME} or "
            "a config naming one, found True",
        ),
        (
            'engine: {cache: {config: "[cache]\\n"}}\n',
            "{empty: true}",
            "'corrupt_cache' needs a cache directory on the engine",
        ),
        (
            "engine: {cache: {directory: c}}\n",
            "{delete: true, truncate: 3}",
            "step 1 (compile): 'delete' removes the entries; it takes no other corruption",
        ),
        (
            "engine: {cache: {directory: c}}\n",
            "{truncate: 99999999999}",
            "an offset must be from -4294967296 to 4294967296, found 99999999999",
        ),
        ("engine: {cache: {directory: c}}\n", "{in: code, flip: [1]}", "in"),
        ("engine: {cache: {directory: c}}\n", "{}", "corrupt_cache"),
    ],
)
def test_a_corruption_that_cannot_be_meant_is_refused(
    scenario_dir: Path, head: str, spec: str, message: str
) -> None:
    text = f"{head}steps:\n  - compile: {{fixture: add, corrupt_cache: {spec}}}\n"
    with pytest.raises(ScenarioError, match=re.escape(message)):
        compile_args(scenario_dir, text)


def test_a_step_engine_with_a_directory_will_do(scenario_dir: Path) -> None:
    text = (
        "steps:\n  - compile: {fixture: add, engine: {cache: {directory: c}}, "
        "corrupt_cache: {flip: [3]}}\n"
    )
    (args,) = compile_args(scenario_dir, text)
    assert args["corrupt_cache"] == {"flip": [3]} and args["engine"]["cache"] == {"directory": "c"}
