"""Scenario files: what loads, and the one-line error each kind of mistake gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario
from harness.scenario.model import cases
from harness.scenario.suite import load_suite

GOOD = """\
description: a good one
tags: [lifecycle]
params:
  - {n: 1}
  - {n: 2}
steps:
  - compile: add
  - instantiate
  - call: {export: add, args: ["${n}", 1]}
  - restart
  - compile: {fixture: add, engine: {features: [simd]}}
  - close
"""


def write(folder: Path, text: str, name: str = "s.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_good_scenario_yields_one_case_per_param_set(scenario_dir: Path) -> None:
    scenario = load_scenario(write(scenario_dir, GOOD))
    runs = cases(scenario)
    assert [c.id for c in runs] == ["s[n=1]", "s[n=2]"]
    first = runs[0]
    assert len(first.segments) == 2
    call = first.segments[0][2]
    assert call.args["args"] == [{"type": None, "value": 1}, {"type": None, "value": 1}]
    assert call.line == 9
    assert first.segments[1][0].args["engine"]["features"] == {"simd": True}
    # the default close only closes what its segment made
    assert first.segments[1][1].args["order"] == [["module", "m"], ["engine", None]]


def test_a_close_marked_always_says_so_and_one_without_it_does_not(scenario_dir: Path) -> None:
    text = (
        "steps:\n  - compile: add\n  - instantiate\n  - close: {always: true}\n"
        "  - close: [module]\n"
    )
    (case,) = cases(load_scenario(write(scenario_dir, text)))
    deferred, plain = case.segments[0][2], case.segments[0][3]
    assert deferred.args["always"] is True and plain.args["always"] is False
    with pytest.raises(ScenarioError, match="always"):
        load_scenario(write(scenario_dir, "steps:\n  - close: {always: yes please}\n"))


BROKEN = [
    (
        "known:\n  - {runtime: x, step: 1, expect: ok, results: [1], reason: r}\n"
        "steps:\n  - compile: add\n",
        2,
        "'results' belongs to an entry about a call step",
    ),
    (
        "steps:\n  - compile: add\n  - instantiate\n"
        "  - call: {export: add, args: [1, 2], results: [3], expect: error}\n",
        4,
        "`results` needs the call to return (expect ok or any), found expect error",
    ),
    (
        "steps:\n  - compile: add\n  - frobnicate: {}\n",
        3,
        'step 2 (frobnicate): unknown step "frobnicate"',
    ),
    (
        'steps:\n  - compile: add\n  - instantiate\n  - call: {export: add, args: ["5"]}\n',
        4,
        "step 3 (call): 'args.0' must",
    ),
    (
        "steps:\n  - compile: add\n  - instantiate\n  - call: {args: [1]}\n",
        4,
        "step 3 (call): missing required key 'export'",
    ),
    (
        "steps:\n  - compile: {fixture: add, colour: red}\n",
        2,
        "step 1 (compile): unknown key 'colour'",
    ),
    (
        "steps:\n  - compile: add\n  - restart\n  - instantiate\n",
        4,
        "step 3 (instantiate): module 'm' is not defined in this segment; "
        "it was made at line 2, before a restart",
    ),
    (
        'params: [{a: 1}]\nsteps:\n  - compile: add\n  - instantiate\n  - call: {export: "${b}"}\n',
        5,
        "unknown parameter ${b} (parameters: a)",
    ),
    (
        'steps:\n  - compile: add\n  - instantiate: {expect: {error: "("}}\n',
        3,
        "invalid regular expression",
    ),
    (
        "steps:\n  - compile: add\n  - serialize: {to: ../../etc/passwd}\n",
        3,
        "must stay inside the run's work dir",
    ),
    (
        "steps:\n  - compile: add\n  - serialize: {to: /etc/passwd}\n",
        3,
        "must stay inside the run's work dir",
    ),
    ("steps: !!python/object/apply:os.system ['echo hi']\n", 1, "YAML tag"),
    (
        "steps:\n  - compile: add\n  - compile: add\n    oops\n",
        5,
        "invalid YAML: could not find expected ':'",
    ),
    ("name: x\nname: y\nsteps: [restart]\n", 2, "duplicate key 'name'"),
    ("- compile: add\n", 1, "expected a mapping with 'steps'"),
    ("", 1, "empty file"),
    ('steps:\n  - "a\\nb": {}\n', 2, 'step 1 (a\\nb): unknown step "a\\nb"'),
    ('params: [{"a\\nb": null}]\nsteps: [restart]\n', 1, "'params.0.a\\nb': must be"),
    ("steps: [restart]\n\x08\n", 2, "invalid YAML: character U+0008 is not allowed in YAML"),
    ("steps:\n  - compile: {fixture: add, cache: hit}\n", 2, "needs a cache on the engine"),
    ("producer: other-family\nsteps:\n  - compile: add\n", 1, "'producer' needs a `restart`"),
    (
        "known:\n  - {runtime: x, step: 2, expect: ok, reason: r}\nsteps:\n  - compile: add\n",
        2,
        "step 2 is not a step that can have an outcome",
    ),
    (
        "known:\n  - {step: 1, expect: error, reason: r}\nsteps:\n  - compile: add\n",
        2,
        "say which runs it is about",
    ),
    (
        "known:\n  - {runtime: x, params: {n: 1}, step: 1, expect: ok, reason: r}\n"
        "steps:\n  - compile: add\n",
        2,
        "unknown parameter 'n'",
    ),
    (
        "known:\n  - {runtime: x, step: 1, expect: ok}\nsteps:\n  - compile: add\n",
        2,
        "missing required key 'reason'",
    ),
    (
        "producer: other-family\nupgrade: true\nsteps: [restart]\n",
        1,
        "'producer' and 'upgrade' exclude each other",
    ),
    (
        "engine: {cache: true}\nsteps:\n  - compile: {fixture: add, cache: warm}\n",
        3,
        "'cache' must be one of hit, miss",
    ),
    ("steps:\n  - compile\n", 2, "'compile' needs its arguments"),
    ("steps: [restart]\ntimeout: -1\n", 2, "'timeout': must satisfy exclusiveMinimum 0"),
    ("steps:\n  - deserialize: {from: a.cwasm, wasm: add}\n", 2, "give exactly one of 'from'"),
    (
        "steps:\n  - compile: add\n  - instantiate\n  - call: {export: add, args: [{i32: 1.5}]}\n",
        4,
        "step 3 (call): 'args.0.i32' must be an integer",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), BROKEN)
def test_broken_scenario_gets_one_line_with_file_and_line(
    scenario_dir: Path, text: str, line: int, message: str
) -> None:
    path = write(scenario_dir, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    error = str(info.value)
    assert "\n" not in error
    assert error.startswith(f"{path}:{line}: "), error
    assert message in error, error


def test_missing_fixture_is_reported_at_its_step(scenario_dir: Path) -> None:
    write(scenario_dir, "steps:\n  - compile: add\n  - compile: nope\n")
    suite = load_suite([scenario_dir])
    assert len(suite.errors) == 1
    error = str(suite.errors[0])
    assert ":3: step 2 (compile): fixture 'nope' not found" in error
    assert "known: add" in error


def test_a_fixture_linking_out_of_its_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "wasm_fixtures").mkdir()
    (tmp_path / "secret.wat").write_text("(module)")
    (tmp_path / "wasm_fixtures" / "leak.wat").symlink_to(tmp_path / "secret.wat")
    (tmp_path / "scenarios").mkdir()
    write(tmp_path / "scenarios", "steps:\n  - compile: leak\n")
    (error,) = load_suite([tmp_path / "scenarios"]).errors
    assert ":2: step 1 (compile): fixture 'leak':" in str(error)
    assert "is a link to outside" in str(error)


def test_validate_reports_every_bad_file(scenario_dir: Path) -> None:
    write(scenario_dir, "steps: [frob]\n", "a.yaml")
    write(scenario_dir, "steps: 5\n", "b.yaml")
    write(scenario_dir, GOOD, "c.yaml")
    suite = load_suite([scenario_dir])
    assert sorted(Path(str(e).split(":")[0]).name for e in suite.errors) == ["a.yaml", "b.yaml"]
    assert [s.name for s in suite.scenarios] == ["c"]


def test_alias_bomb_is_refused(scenario_dir: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        lines.append(
            f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]"
        )
    path = write(scenario_dir, "\n".join(lines) + "\nsteps: [restart]\n")
    with pytest.raises(
        ScenarioError, match="more than 250000 YAML nodes once its aliases are expanded"
    ):
        load_scenario(path)


@pytest.mark.usefixtures("npm_corpus")  # scenarios/real_world names modules npm installs
def test_bundled_scenarios_all_load(project_root: Path) -> None:
    suite = load_suite([project_root / "scenarios"], build=True)
    assert suite.errors == []
    assert len(suite.scenarios) >= 12
    ops = {step.op for case in suite.cases() for seg in case.segments for step in seg}
    assert ops == {"compile", "serialize", "deserialize", "instantiate", "call", "close"}
    assert any(len(case.segments) > 1 for case in suite.cases())  # restarts


def test_known_entries_apply_to_the_runs_they_name(scenario_dir: Path) -> None:
    path = write(
        scenario_dir,
        "params: [{code: a}, {code: b}]\n"
        "known:\n"
        "  - runtime: [wasmer-1.0.0-native-*]\n"
        "    params: {code: [a]}\n"
        "    step: 3\n"
        "    expect: {trap: stack_overflow}\n"
        "    reason: >\n"
        "      reports every\n"
        "      trap as a stack overflow\n"
        "  - {producer: p-1, consumer: 'c-*', step: 4, expect: any, reason: upgrade only}\n"
        "steps:\n  - compile: add\n  - instantiate\n"
        "  - call: {export: add, args: [1, 2]}\n  - close\n",
    )
    a, b = cases(load_scenario(path))
    (entry,) = a.known_for("wasmer-1.0.0-native-cranelift").values()
    assert (entry.index, entry.expect.kind, entry.expect.pattern) == (2, "trap", "stack_overflow")
    assert entry.reason == "reports every trap as a stack overflow"
    assert b.known_for("wasmer-1.0.0-native-cranelift") == {}  # another parameter set
    assert a.known_for("wasmer-1.1.0-universal-cranelift") == {}
    assert list(a.known_for(None, "p-1", "c-2")) == [3]
    assert a.known_for(None, "p-1", "d-2") == {}
