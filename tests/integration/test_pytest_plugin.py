"""The pytest plugin, run the way a user runs it: `pytest scenarios/` in a project of its own,
on the real wasmtime of this interpreter."""

from __future__ import annotations

import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest

pytest_plugins = ["pytester"]
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("own_wasmtime")]

ROOT = Path(__file__).resolve().parents[2]

CRASHES = """\
description: a corrupted artifact's code is called and the process dies; the scenario says ok
steps:
  - compile: add
  - serialize: {to: add.cwasm}
  - restart
  - deserialize: {from: add.cwasm, corrupt: {flip: [0], in: code}}
  - instantiate
  - call: {export: add, args: [1, 2], results: [3]}
"""
WRONG = """\
description: a wrong expected value
steps:
  - compile: add
  - instantiate
  - call: {export: add, args: [1, 2], results: [4]}
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    (pytester.path / "wasm_fixtures").symlink_to(ROOT / "wasm_fixtures")
    scenarios = pytester.path / "scenarios"
    scenarios.mkdir()
    for name in ("compile_call_close.yaml", "traps.yaml", "upgrade_serialized_imports.yaml"):
        shutil.copy(ROOT / "scenarios" / name, scenarios)
    (scenarios / "flip_crashes.yaml").write_text(CRASHES)
    (scenarios / "wrong_value.yaml").write_text(WRONG)
    (pytester.path / "notes.yaml").write_text("steps: not a scenario outside scenarios/\n")
    return pytester


def test_scenarios_run_as_tests_and_a_crash_is_a_crash(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("scenarios", "-q", "-rA")
    outcomes = result.parseoutcomes()
    # compile_call_close, 9 traps, the upgrade control: pass; one wrong value; one crash
    assert (outcomes.get("passed"), outcomes.get("failed"), outcomes.get("crashed")) == (11, 1, 1)
    text = result.stdout.str()
    assert "flip_crashes.yaml:8: step 6 (call) on wasmtime-" in text
    assert "expected: ok" in text and "actual:   crash (SIGSEGV)" in text
    # the tail of the fault handler's dump, down to the runtime's frame that crashed
    assert "stderr (last lines):" in text and "most recent call first" in text
    assert "in wasmtime_func_call" in text
    assert "wrong_value.yaml:5: step 3 (call)" in text
    assert "why:      expected results [4], got [3]" in text
    assert "CRASHES" in text  # crashes get their own section, like failures
    assert "CRASH" in text  # its own status in the short summary
    assert result.ret == 1


def test_k_x_junitxml_and_xdist(project: pytest.Pytester) -> None:
    selected = project.runpytest_subprocess("scenarios", "-q", "-k", "div_by_zero")
    assert selected.parseoutcomes() == {"passed": 1, "deselected": 12}
    stopped = project.runpytest_subprocess("scenarios", "-q", "-x", "-p", "no:randomly")
    assert stopped.parseoutcomes().get("passed", 0) < 11  # stopped at the first failure
    junit = project.path / "junit.xml"
    project.runpytest_subprocess("scenarios", "-q", f"--junitxml={junit}")
    cases = ElementTree.parse(junit).getroot().iter("testcase")
    assert len(list(cases)) == 13
    parallel = project.runpytest_subprocess("scenarios", "-q", "-n", "2")
    assert parallel.parseoutcomes().get("passed") == 11
    assert parallel.parseoutcomes().get("failed", 0) + parallel.parseoutcomes().get("crashed", 0)
