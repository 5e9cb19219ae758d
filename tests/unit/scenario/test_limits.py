"""Issue 16, bad input: the loader's limits, numbers held to their ranges where they are read,
paths checked before anything is created. Each case first reproduced the traceback, the silent
wrap or the directory made outside the work dir; each now gets one line with file and line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.errors import ScenarioError
from harness.scenario import loader
from harness.scenario.loader import load_scenario
from harness.scenario.suite import load_suite

CALL = "steps:\n  - compile: add\n  - instantiate\n  - call: {export: add, args: [%s, 1]}\n"

REFUSED = [
    ("steps: &a [*a]\n", 1, "an alias refers to a node that contains it"),
    ("steps: " + "[" * 5000 + "]" * 5000 + "\n", 1, "nested more than 64 levels deep"),
    ("timeout: " + "9" * 5000 + "\nsteps: [restart]\n", 1, "a number of 5000 characters"),
    ("timeout: 1.0e+400\nsteps: [restart]\n", 1, "number 1.0e+400 is out of range of a float"),
    ("timeout: 1.0e+308\nsteps: [restart]\n", 1, "'timeout' must be more than 0 and at most"),
    (CALL % "{i32: 100000000000000000000000000000}", 4, "i32 must be from -2147483648"),
    (CALL % "{i32: 4294967296}", 4, "i32 must be from -2147483648 to 4294967295"),
    (CALL % "{i64: 18446744073709551616}", 4, "i64 must be from"),
    (CALL % "99999999999999999999999", 4, "an integer must be from"),
    (CALL % "{f32: 1.0e+39}", 4, "f32 must be at most"),
    ("engine: {fuel: 18446744073709551616}\nsteps:\n  - compile: add\n", 1, "fuel must be from"),
    (
        "steps:\n  - compile: add\n  - instantiate\n"
        "  - call: {export: add, expect: {exit: 4294967296}}\n",
        4,
        "an exit code must be from",
    ),
    (
        "steps:\n  - deserialize: {wasm: add, corrupt: {truncate: 99999999999}}\n",
        2,
        "an offset must be from",
    ),
    (
        "engine: {cache: {directory: /tmp/outside}}\nsteps:\n  - compile: add\n",
        1,
        "must stay inside the run's work dir",
    ),
    (
        "engine: {cache: {directory: ../..}}\nsteps:\n  - compile: add\n",
        1,
        "must stay inside the run's work dir",
    ),
    (
        "params: [{d: /tmp/x}]\nengine: {cache: {directory: '${d}'}}\nsteps:\n  - compile: add\n",
        2,
        "must stay inside the run's work dir, found '/tmp/x' [params d=/tmp/x]",
    ),
    (
        "params: [{d: ..}]\nsteps:\n  - compile: add\n"
        "  - compile: {fixture: add, engine: {cache: {directory: '${d}/c'}}}\n",
        4,
        "must stay inside the run's work dir",
    ),
    ("engine: {cache: {directory: .}}\nsteps:\n  - compile: add\n", 1, "not the work dir itself"),
    ("steps:\n  - compile: add\n  - serialize: {to: .}\n", 3, "not the work dir itself"),
    ("steps:\n  - compile: add\n  - serialize: {to: a/}\n", 3, "not the work dir itself"),
    ("steps:\n  - compile: add\n  - serialize: {to: ..}\n", 3, "must stay inside"),
    ("steps:\n  - compile: add\n  - serialize: {to: ' '}\n", 3, "expected a file name"),
    ("steps:\n  - deserialize: {from: a/.}\n", 2, "not the work dir itself"),
    ("steps:\n  - deserialize: {from: '~/x'}\n", 2, "must stay inside"),
]


@pytest.mark.parametrize(("text", "line", "message"), REFUSED)
def test_bad_input_gets_one_line_with_file_and_line(
    scenario_dir: Path, text: str, line: int, message: str
) -> None:
    path = scenario_dir / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    error = str(info.value)
    assert "\n" not in error
    assert error.startswith(f"{path}:{line}: "), error
    assert message in error, error


def test_25000_steps_load_and_the_node_limit_says_what_it_counted(scenario_dir: Path) -> None:
    path = scenario_dir / "s.yaml"
    path.write_text("steps:\n" + "  - restart\n" * 25_000)
    assert len(load_scenario(path).data["steps"]) == 25_000
    path.write_text("steps:\n" + "  - {compile: {fixture: add, as: m}}\n" * 40_000)
    with pytest.raises(ScenarioError, match=r"more than 250000 YAML nodes; a scenario is smaller"):
        load_scenario(path)


def test_a_file_past_the_size_limit_is_refused_before_it_is_parsed(scenario_dir: Path) -> None:
    path = scenario_dir / "s.yaml"
    path.write_text("# " + "x" * loader.MAX_BYTES + "\nsteps: [restart]\n")
    with pytest.raises(ScenarioError, match=r"more than the 4194304 a scenario may have"):
        load_scenario(path)


def test_a_fifo_fixture_is_named_for_what_it_is(tmp_path: Path) -> None:
    (tmp_path / "wasm_fixtures").mkdir()
    os.mkfifo(tmp_path / "wasm_fixtures" / "pipe.wat")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "s.yaml").write_text("steps:\n  - compile: pipe\n")
    (error,) = load_suite([tmp_path / "scenarios"]).errors
    assert ":2: step 1 (compile): fixture 'pipe':" in str(error)
    assert "is a FIFO, not a regular file" in str(error)
    assert "not found" not in str(error)


@pytest.mark.parametrize(
    "option",
    [
        ["--timeout", "nan"],
        ["--timeout", "0"],
        ["--timeout", "inf"],
        ["--timeout", "1e308"],
        ["--memory-mb", "0"],
        ["-j", "0"],
        ["--reruns", "-1"],
        ["--jobs", "9" * 5000],
    ],
)
def test_a_bad_number_on_the_command_line_is_a_usage_error(
    option: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", *option, "--out", str(tmp_path / "out"), str(tmp_path)])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert f"error: argument {option[0]}" in err[-1] or "-j/--jobs" in err[-1]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["merge", "--timeout", "-1", "x"],
        ["merge", "--memory-mb", "0", "x"],
        ["explore", "--runtime", "a", "--max-examples", "0"],
        ["explore", "--runtime", "a", "--seed", "-1"],
        [
            "bisect",
            "s.yaml",
            "--family",
            "wasmtime",
            "--good",
            "1",
            "--bad",
            "2",
            "--timeout",
            "nan",
        ],
    ],
)
def test_other_commands_range_check_their_numbers(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_the_adapter_checks_a_cache_directory_before_making_it(tmp_path: Path) -> None:
    wasmtime = pytest.importorskip("wasmtime")
    from harness.worker.adapters.wasmtime_common import configure
    from harness.worker.segment import ScenarioStateError

    work = tmp_path / "work"
    work.mkdir()
    for directory in (str(tmp_path / "outside"), "../outside"):
        with pytest.raises(ScenarioStateError, match="resolves outside the work dir"):
            configure(wasmtime.Config(), {"cache": {"directory": directory}}, str(work), "x", print)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
