"""Host functions a scenario declares: what an instantiate step is sent, and the one line each
mistake gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario
from harness.scenario.model import cases

DECLARED = """\
imports:
  env:
    now: {results: [i64], does: {return: 1700000000}}
    log: {params: [i32], does: record}
    echo: {params: [i64, i32], results: [i64], does: {arg: 0}}
    sum: {params: [f64, f64], results: [f64], does: add}
    quit: {params: [i32], does: exit}
    quit_3: {does: {exit: 3}}
    abort: {does: trap}
    stall: {does: hang}
  other:
    unused: {does: trap}
steps:
  - compile: env_imports
  - instantiate: {imports: [env, wasi]}
  - instantiate: {as: plain, store: s2}
"""


def load(folder: Path, text: str) -> list[object]:
    path = folder / "s.yaml"
    path.write_text(text)
    return cases(load_scenario(path))  # type: ignore[return-value]


def test_an_instantiate_step_is_sent_the_modules_it_links(scenario_dir: Path) -> None:
    (case,) = load(scenario_dir, DECLARED)
    linked, plain = case.segments[0][1].args, case.segments[0][2].args  # type: ignore[attr-defined]
    env = linked["functions"]["env"]
    assert list(linked["functions"]) == ["env"] and linked["imports"] == ["env", "wasi"]
    assert env["now"] == {
        "params": [],
        "results": ["i64"],
        "does": {"kind": "return", "value": {"type": "i64", "value": 1700000000}},
    }
    assert env["echo"]["does"] == {"kind": "arg", "index": 0}
    assert [env[n]["does"]["kind"] for n in ("log", "sum", "abort", "stall")] == [
        "record",
        "add",
        "trap",
        "hang",
    ]
    assert env["quit"]["does"] == {"kind": "exit", "code": None}
    assert env["quit_3"]["does"] == {"kind": "exit", "code": 3}
    assert plain["functions"] == {} and plain["imports"] == []


@pytest.mark.parametrize(
    ("declaration", "line", "message"),
    [
        ("  - instantiate: {imports: [env]}", 3, "module 'env' is not declared under `imports:`"),
        ("imports:\n  host:\n    f: {does: trap}", 3, "provided by the harness"),
        ("imports:\n  env:\n    f: {results: [i32, i32], does: {return: 1}}", 3, "one value"),
        ("imports:\n  env:\n    f: {params: [i32], results: [i64], does: {arg: 0}}", 3, "arg: 0"),
        ("imports:\n  env:\n    f: {params: [i32, f32], results: [i32], does: add}", 3, "add"),
        ("imports:\n  env:\n    f: {params: [f32], does: exit}", 3, "declare it i32 or i64"),
        ("imports:\n  env:\n    f: {does: {exit: 300}}", 3, "300"),
        ("imports:\n  env:\n    f: {results: [i32], does: {return: 1.5}}", 3, "needs an integer"),
        ("imports:\n  env:\n    f: {does: sing}", 3, "sing"),
    ],
)
def test_a_mistake_in_a_declaration_is_one_line_with_its_place(
    scenario_dir: Path, declaration: str, line: int, message: str
) -> None:
    text = declaration + "\nsteps:\n  - compile: env_imports\n  - instantiate: {imports: [env]}\n"
    if declaration.startswith("  -"):
        text = "steps:\n  - compile: env_imports\n" + declaration + "\n"
    with pytest.raises(ScenarioError) as refused:
        load(scenario_dir, text)
    shown = str(refused.value)
    assert message in shown and "\n" not in shown, shown
    assert f"s.yaml:{line}:" in shown, shown
