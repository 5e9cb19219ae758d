"""Issue 18, parameters: any scalar of the steps and the engine may be `${name}`, a whole-value
reference keeps the parameter's type, and a value that does not fit where it is used is one line
naming the parameter set. Scenarios are read with YAML 1.2's booleans, so `off`, `no`, `yes`...
are the words they look like, as parameter names and as values."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario
from harness.scenario.model import cases


def write(folder: Path, text: str) -> Path:
    path = folder / "s.yaml"
    path.write_text(text)
    return path


def test_corruption_offsets_and_other_scalars_come_from_parameters(scenario_dir: Path) -> None:
    text = """\
params:
  - {off: 3, n: -2, where: file, via: bytes, name: mod, imports: host, always: true, e: any}
steps:
  - compile: {fixture: add, as: "${name}"}
  - serialize: {module: "${name}"}
  - deserialize:
      from: mod.cwasm
      via: "${via}"
      corrupt: {flip: ["${off}", 7], in: "${where}", truncate: "${n}"}
      expect: "${e}"
  - deserialize:
      wasm: add
      corrupt:
        truncate: ${n}
  - instantiate: {imports: "${imports}", module: "${name}"}
  - call: {export: call_add_i32, args: [{i32: "${off}"}, "${n}"]}
  - close: {order: [{module: "${name}"}], always: "${always}"}
"""
    (case,) = cases(load_scenario(write(scenario_dir, text)))
    steps = {step.index: step for segment in case.segments for step in segment}
    flipped, truncated = steps[2].args, steps[3].args
    assert flipped["corrupt"] == {"flip": [3, 7], "in": "file", "truncate": -2}
    assert type(flipped["corrupt"]["flip"][0]) is int  # a whole `${off}` stays a number
    assert (flipped["via"], steps[2].expect.kind, truncated["corrupt"]) == (
        "bytes",
        "any",
        {"truncate": -2},
    )
    assert steps[0].args["as"] == "mod" and steps[4].args["imports"] == ["host"]
    assert steps[5].args["args"] == [{"type": "i32", "value": 3}, {"type": None, "value": -2}]
    assert steps[6].args["order"] == [["module", "mod"]] and steps[6].args["always"] is True


@pytest.mark.parametrize(
    ("params", "step", "line", "message"),
    [
        (
            "{off: abc}",
            'deserialize: {wasm: add, corrupt: {flip: ["${off}"]}}',
            3,
            "step 1 (deserialize): 'corrupt.flip.0' must be an integer, found \"abc\" "
            "[params off=abc]",
        ),
        (
            "{off: -1}",
            'deserialize: {wasm: add, corrupt: {flip: ["${off}"]}}',
            3,
            "'corrupt.flip.0' must satisfy minimum 0, found -1",
        ),
        (
            "{n: 99999999999}",
            'deserialize: {wasm: add, corrupt: {truncate: "${n}"}}',
            3,
            "an offset must be from -4294967296 to 4294967296, found 99999999999",
        ),
        ("{v: disk}", 'deserialize: {wasm: add, via: "${v}"}', 3, "'via' must be one of bytes"),
        ("{i: 5}", 'instantiate: {imports: "${i}"}', 3, "'imports' must be a string, found 5"),
        ("{a: 1x}", 'compile: {fixture: add, as: "${a}"}', 3, "'as' must match"),
        ("{e: boom}", 'compile: {fixture: add, expect: "${e}"}', 3, "'expect' must be one of ok"),
        ("{x: 1.5}", 'instantiate: {wasi: {args: ["${x}"]}}', 3, "'wasi.args.0' must be a string"),
        ("{c: bogus}", 'compile: {fixture: add, engine: {compiler: "${c}"}}', 3, "'engine.comp"),
    ],
)
def test_a_parameter_that_does_not_fit_is_one_line_naming_the_set(
    scenario_dir: Path, params: str, step: str, line: int, message: str
) -> None:
    path = write(scenario_dir, f"params: [{params}]\nsteps:\n  - {step}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    error = str(info.value)
    assert "\n" not in error and error.startswith(f"{path}:{line}: "), error
    assert message in error and "[params " in error, error


def test_the_engine_of_a_parameter_set_is_checked_with_its_values(scenario_dir: Path) -> None:
    path = write(
        scenario_dir,
        'params: [{c: cranelift}, {c: bogus}]\nengine: {compiler: "${c}"}\n'
        "steps:\n  - compile: add\n",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == (
        f"{path}:2: 'engine.compiler': must be one of auto, cranelift, winch, singlepass, llvm, "
        'found "bogus" [params c=bogus]'
    )


def test_yaml_1_1_boolean_words_are_strings_as_names_and_as_values(scenario_dir: Path) -> None:
    text = """\
params:
  - {off: 0, on: 1, yes: y, no: n, y: Yes, n: NO, Off: OFF, ON: On}
upgrade: true
steps:
  - compile: add
  - serialize: {to: "${yes}${no}${y}${n}${Off}${ON}.cwasm"}
  - restart
  - deserialize: {from: "ynYesNOOFFOn.cwasm", corrupt: {flip: ["${off}", "${on}"]}}
  - close: {always: True}
  - close: {always: FALSE}
"""
    scenario = load_scenario(write(scenario_dir, text))
    (case,) = cases(scenario)
    assert case.params == {
        "off": 0,
        "on": 1,
        "yes": "y",
        "no": "n",
        "y": "Yes",
        "n": "NO",
        "Off": "OFF",
        "ON": "On",
    }
    steps = [step for segment in case.segments for step in segment]
    assert steps[1].args["to"] == "ynYesNOOFFOn.cwasm"
    assert steps[2].args["corrupt"]["flip"] == [0, 1]
    assert scenario.upgrade is True  # true, True and TRUE are still booleans
    assert [steps[3].args["always"], steps[4].args["always"]] == [True, False]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "upgrade: yes\nsteps:\n  - compile: add\n  - restart\n",
            1,
            "'upgrade': must be a boolean, found \"yes\" "
            "(scenarios are read as YAML 1.2: write true or false)",
        ),
        (
            "engine: {features: {simd: off}}\nsteps:\n  - compile: add\n",
            1,
            "'engine.features.simd': must be a boolean, found \"off\" (scenarios are read as YAML",
        ),
        (
            'params: [{on: No}]\nsteps:\n  - close: {always: "${on}"}\n',
            3,
            "'always' must be a boolean, found \"No\" (scenarios are read as YAML 1.2",
        ),
        ("true: 1\nsteps: [restart]\n", 1, "keys must be strings, found true"),
        (
            "params: [{e: any}]\nknown:\n  - {runtime: x, step: 1, reason: r, expect: '${e}'}\n"
            "steps:\n  - compile: add\n",
            3,
            "a known entry is not substituted: give its 'params' instead",
        ),
        (
            "params: [{off: 3}]\nsteps:\n  - deserialize: {wasm: add, corrupt: {flip: [${off}]}}\n",
            3,
            "invalid YAML: expected ',' or ']', but got '{' "
            '(inside [...] or {...}, quote a parameter: "${off}")',
        ),
    ],
)
def test_booleans_and_bare_references_are_refused_with_what_to_write(
    scenario_dir: Path, text: str, line: int, message: str
) -> None:
    path = write(scenario_dir, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    error = str(info.value)
    assert "\n" not in error and error.startswith(f"{path}:{line}: "), error
    assert message in error, error
