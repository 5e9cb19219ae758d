"""Bisect: the pure search, the index listing, the reproduce line, and a real boundary found
among real wasmtime releases."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from runtime_envs import cached_env

from harness.cli.main import build_parser, main
from harness.cli.search import reproduce_command
from harness.model.runtime import Runtime
from harness.search import bisect
from harness.search.bisect import DIFFERENT, SAME, UNTESTABLE, BisectError, between, search

ROOT = Path(__file__).resolve().parents[3]
PYTHON_VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_between_orders_releases_and_keeps_the_ends() -> None:
    index = ["0.40.0", "0.39.1", "0.38.0", "0.30.0", "1.0.0", "0.31.0", "0.9.0"]
    assert between(index, "0.30.0", "0.40.0") == ["0.30.0", "0.31.0", "0.38.0", "0.39.1", "0.40.0"]
    with pytest.raises(BisectError, match="must be an older release"):
        between(index, "0.40.0", "0.30.0")


@given(st.integers(min_value=1, max_value=60), st.data())
def test_search_finds_the_first_different_release(n: int, data: st.DataObject) -> None:
    order = [f"{i}.0.0" for i in range(n + 1)]
    boundary = data.draw(st.integers(min_value=1, max_value=n))
    broken = set(data.draw(st.lists(st.sampled_from(order[1:-1]), unique=True)) if n > 1 else [])
    asked: list[str] = []

    def probe(release: str) -> tuple[str, str]:
        asked.append(release)
        if release in broken:
            return UNTESTABLE, "no wheel"
        return (SAME if order.index(release) < boundary else DIFFERENT), ""

    state = search(order, probe)
    first = state.order[state.hi]
    # the first testable release at or after the boundary, and the last testable one before it
    testable = [r for r in order if r not in broken or r in (order[0], order[-1])]
    assert first == next(r for r in testable if order.index(r) >= boundary)
    assert state.order[state.lo] == [r for r in testable if order.index(r) < boundary][-1]
    assert set(state.skipped) <= broken and len(set(asked)) == len(asked)
    assert len(asked) <= len(order)


# -- the index ----------------------------------------------------------------------------------

PIP_SAYS = """\
WARNING: pip index is currently an experimental command. It may be removed/changed in a future
wasmtime (50.0.1)
Available versions: 50.0.1, 49.0.0, 0.40.0, 0.39.1, 0.30.0
  INSTALLED: 50.0.1
  LATEST:    50.0.1
"""


def test_the_releases_are_read_from_pip_index_versions_plain_output() -> None:
    versions = bisect.parse_index_versions("wasmtime", PIP_SAYS)
    assert versions == ["50.0.1", "49.0.0", "0.40.0", "0.39.1", "0.30.0"]


def test_output_without_the_versions_line_is_one_line_that_says_so() -> None:
    with pytest.raises(BisectError, match="cannot list the releases of wasmtime: pip index") as e:
        bisect.parse_index_versions("wasmtime", "something else\nentirely\n")
    assert "'entirely'" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.integration
@pytest.mark.matrix
def test_the_index_is_listed_by_an_old_pip_too() -> None:
    # pip 23.2 (what Python 3.11's venv ships) has no `pip index versions --json`
    python = cached_env("pip-23.2.1", sys.executable, ["pip==23.2.1"])
    assert bisect.index_versions("wasmtime", PYTHON_VERSION, python) == bisect.index_versions(
        "wasmtime", PYTHON_VERSION
    )


# -- the reproduce line ---------------------------------------------------------------------------


def bisect_options(*extra: str) -> Any:
    common = ["bisect", "s.yaml", "--family", "wasmer", "--good", "1.0.0", "--bad", "2.0.0"]
    return build_parser().parse_args([*common, *extra])


@pytest.mark.parametrize(
    ("given", "carried"),
    [
        (["--variant", "universal-cranelift"], "--variant universal-cranelift"),
        (["--param", "code=unreachable", "--param", "n=2"], "--param=code=unreachable --param=n=2"),
        (["--criterion", "message"], "--criterion message"),
        (["--fixtures", "my fixtures"], "--fixtures 'my fixtures'"),
        (["--timeout", "2.5"], "--timeout 2.5"),
    ],
)
def test_the_reproduce_line_carries_each_option_that_changes_the_search(
    given: list[str], carried: str
) -> None:
    line = reproduce_command(bisect_options(*given), "1.1.0", "1.2.0", None)
    assert line.startswith("wasm-compat bisect s.yaml --family wasmer --good 1.1.0 --bad 1.2.0")
    assert carried in line
    again = build_parser().parse_args(shlex.split(line)[1:])  # the line as a user runs it
    assert reproduce_command(again, "1.1.0", "1.2.0", None) == line


def test_the_reproduce_line_of_an_upgrade_pins_the_side_that_stayed() -> None:
    # without --fixed the consumer's producer is --good, which the line narrows: so it is pinned
    line = reproduce_command(bisect_options(), "1.1.0", "1.2.0", "1.0.0")
    assert line.endswith("--good 1.1.0 --bad 1.2.0 --side consumer --fixed 1.0.0")
    producer = reproduce_command(bisect_options("--side", "producer"), "1.1.0", "1.2.0", "2.0.0")
    assert producer.endswith("--side producer --fixed 2.0.0")


def test_the_reproduce_line_leaves_out_what_does_not_change_the_search() -> None:
    line = reproduce_command(bisect_options("--out", "w", "--side", "producer"), "1.1", "1.2", None)
    assert line == "wasm-compat bisect s.yaml --family wasmer --good 1.1 --bad 1.2"


def test_an_upgrade_bisect_keeps_the_other_side_at_one_release(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from harness.execution import probe as prober
    from harness.execution import run as runner

    pairs: list[tuple[str, str]] = []

    def run_case(case: Any, producer: Runtime, *args: Any, consumer: Runtime) -> dict[str, Any]:
        pairs.append((str(producer.version), str(consumer.version)))
        refused = bisect.version_key(str(consumer.version)) >= bisect.version_key("0.39.1")
        return {
            "steps": [{"index": 1, "op": "deserialize", "outcome": "error" if refused else "ok"}]
        }

    def probe(python: str, scratch: Path, name: str, family: str, variant: str) -> Runtime:
        return Runtime(name, python, family, name.split("-")[1], variant)

    monkeypatch.setattr(bisect, "provision", lambda env, interpreter, requirements: env.name)
    monkeypatch.setattr(prober, "probe", probe)
    monkeypatch.setattr(runner, "run_case", run_case)
    upgrade = SimpleNamespace(scenario=SimpleNamespace(upgrade=True))
    request = bisect.Request(upgrade, None, "wasmtime", "0.30.0", "0.40.0")
    index = ["0.30.0", "0.35.0", "0.38.0", "0.39.1", "0.40.0"]
    found = bisect.bisect(request, tmp_path, lambda line: None, index)
    assert (found.last_good, found.first_bad, found.fixed) == ("0.38.0", "0.39.1", "0.30.0")
    assert {producer for producer, _ in pairs} == {"0.30.0"}


def test_the_bisect_command_takes_fixtures_and_prints_a_full_reproduce_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a scenario with no wasm_fixtures/ above it: only --fixtures finds its fixtures
    scenario = tmp_path / "traps.yaml"
    shutil.copy(ROOT / "scenarios" / "traps.yaml", scenario)
    seen: list[bisect.Request] = []

    def fake_bisect(request: bisect.Request, *args: Any) -> bisect.Outcome:
        seen.append(request)
        run = {"steps": [{"index": 2, "op": "call", "outcome": "ok"}]}
        return bisect.Outcome("0.38.0", "0.39.1", run, run, ["0.38.0", "0.39.1"], {})

    monkeypatch.setattr(bisect, "index_versions", lambda package, python: ["0.30.0", "0.40.0"])
    monkeypatch.setattr(bisect, "bisect", fake_bisect)
    args = [str(scenario), "--family", "wasmtime", "--good", "0.30.0", "--bad", "0.40.0"]
    options = ["--fixtures", str(ROOT / "wasm_fixtures"), "--criterion", "message"]
    code = main(["bisect", *args, *options, "--param", "code=unreachable", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    (request,) = seen
    assert request.builder.fixture_dir == ROOT / "wasm_fixtures"
    assert request.criterion == "message" and request.case.params["code"] == "unreachable"
    (line,) = [ln for ln in out.splitlines() if ln.startswith("reproduce: ")]
    assert shlex.split(line)[1:] == [
        "wasm-compat", "bisect", str(scenario), "--family", "wasmtime",
        "--good", "0.38.0", "--bad", "0.39.1", "--param=code=unreachable",
        "--criterion", "message", "--fixtures", str(ROOT / "wasm_fixtures"),
    ]  # fmt: skip
    assert main(["bisect", *args, "--param", "code=unreachable"]) == 2
    assert "no wasm_fixtures/ directory found above it" in capsys.readouterr().err


# -- real releases --------------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.matrix
def test_bisect_names_the_release_that_started_aborting(tmp_path: Path) -> None:
    # reference types on, bulk memory off: 0.30.0 accepts it, 0.40.0 aborts creating the Engine
    from harness.scenario.suite import load_suite

    suite = load_suite([ROOT / "scenarios" / "config_reference_types_without_bulk_memory.yaml"])
    (case,) = suite.cases()
    request = bisect.Request(
        case, suite.builders[case.scenario.path], "wasmtime", "0.30.0", "0.40.0"
    )
    lines: list[str] = []
    versions = bisect.index_versions("wasmtime", PYTHON_VERSION)
    assert "0.35.0" in versions and "0.39.0" not in versions  # the index lists 0.39.1 only
    found = bisect.bisect(request, tmp_path, lines.append, versions)
    assert (found.last_good, found.first_bad) == ("0.38.0", "0.39.1")
    assert found.good["outcome"] == "ok" and found.bad["outcome"] == "crash"
    assert len(found.tested) < len(bisect.between(versions, "0.30.0", "0.40.0"))
    assert lines[0] == "9 release(s) between 0.30.0 and 0.40.0"


@pytest.mark.integration
@pytest.mark.matrix
def test_the_bisect_command_prints_the_release_and_the_evidence(tmp_path: Path) -> None:
    bisect_cmd = (sys.executable, "-m", "harness", "bisect")
    # outside the project, so its fixtures come from --fixtures
    scenario = tmp_path / "config.yaml"
    shutil.copy(ROOT / "scenarios" / "config_reference_types_without_bulk_memory.yaml", scenario)
    fixtures = ["--fixtures", str(ROOT / "wasm_fixtures"), "--criterion", "message"]
    releases = ["--family", "wasmtime", "--good", "0.38.0", "--bad", "0.40.0"]
    proc = subprocess.run(
        [*bisect_cmd, str(scenario), *releases, *fixtures],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    assert "first release that differs: wasmtime 0.39.1 (0.38.0 is the last" in proc.stdout
    assert "0.39.1  crash (SIGABRT)" in proc.stdout
    assert f"--criterion message --fixtures {ROOT / 'wasm_fixtures'}" in proc.stdout
    traps = ROOT / "scenarios" / "traps.yaml"
    bad = subprocess.run(
        [*bisect_cmd, str(traps), "--family", "wasmtime", "--good", "0.30.0", "--bad", "0.40.0"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "pick one parameter set with --param" in bad.stderr
