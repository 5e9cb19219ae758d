"""The verdict sees what the application sees, against real releases: a cache config reaches
the runtime as written, what an adapter bridged is recorded and diffed, a value the API returns
is recorded as it returned it, and a wrong value is a break."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from runtime_envs import release

from harness.analysis import diff
from harness.execution.run import run_case
from harness.model.runtime import Runtime
from harness.scenario.suite import load_suite

pytestmark = [pytest.mark.integration, pytest.mark.matrix]

ROOT = Path(__file__).resolve().parents[2]


def run_on(scenario: str, runtime: Runtime, out: Path, text: str | None = None) -> dict[str, Any]:
    path = ROOT / "scenarios" / f"{scenario}.yaml"
    if text is not None:  # a variant of a bundled scenario, next to the real fixtures
        path = out / "scenarios" / f"{scenario}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        (out / "wasm_fixtures").symlink_to(ROOT / "wasm_fixtures")
    suite = load_suite([path])
    assert not suite.errors, suite.errors
    (case,) = suite.cases()
    builder = suite.builders[case.scenario.path]
    return run_case(case, runtime, builder, out / runtime.name, 60, 2048, keep_work=True)


def transition(a: dict[str, Any], b: dict[str, Any], *runtimes: Runtime) -> dict[str, Any]:
    (found,) = diff.transitions([a, b], [{"name": r.name} for r in runtimes])
    return found


def test_a_cache_config_reaches_the_runtime_as_written(tmp_path: Path) -> None:
    old, new = release("wasmtime", "32.0.0"), release("wasmtime", "33.0.0")
    before = run_on("cache_config_enabled_key", old, tmp_path)
    after = run_on("cache_config_enabled_key", new, tmp_path)
    assert before["status"] == "pass" and before["outcome"] == "ok"
    compile_step = after["steps"][0]
    assert (
        compile_step["outcome"] == "error" and "unknown field `enabled`" in compile_step["message"]
    )
    written = (tmp_path / new.name).rglob("wasmtime-cache.toml")
    assert any(p.read_text().startswith("[cache]\nenabled = true\n") for p in written)
    found = transition(before, after, old, new)
    assert found["kind"] == "break" and found["after"]["outcome"] == "error"


def test_what_an_adapter_bridged_is_recorded_and_a_change_in_it_is_drift(tmp_path: Path) -> None:
    old, new = release("wasmtime", "32.0.0"), release("wasmtime", "33.0.0")
    before = run_on("cache_dir_restart", old, tmp_path)
    after = run_on("cache_dir_restart", new, tmp_path)
    assert "adapted" not in before["steps"][0]
    assert after["steps"][0]["adapted"] == [
        "cache config written without `enabled = true`, which this release rejects"
    ]
    found = transition(before, after, old, new)
    assert found["kind"] == "drift" and found["changed"] == ["adapted"]


def test_a_trap_code_read_that_raises_is_recorded_as_such(tmp_path: Path) -> None:
    raising, fixed = release("wasmtime", "39.0.0"), release("wasmtime", "45.0.0")
    before = run_on("fuel_exhaustion", raising, tmp_path)
    after = run_on("fuel_exhaustion", fixed, tmp_path)
    spin_before, spin_after = before["steps"][3], after["steps"][3]
    # both compare as out_of_fuel; what an application reading trap_code saw is kept beside it
    assert spin_before["trap_code"] == spin_after["trap_code"] == "out_of_fuel"
    assert spin_before["trap_code_api"].startswith("raises ValueError: ")
    assert spin_after["trap_code_api"] == "out_of_fuel"
    found = transition(before, after, raising, fixed)
    assert found["kind"] == "drift" and found["changed"] == ["trap_code_api"]


WRONG_VALUE = """\
description: a corrupted artifact whose code still runs, returning another value
tags: [corrupt]
steps:
  - compile: add
  - serialize: {to: add.cwasm}
  - restart
  - deserialize: {from: add.cwasm, corrupt: {flip: [OFFSET], in: code}}
  - instantiate
  - call: {export: add, args: [2, 40], results: [42], expect: any}
"""


def test_a_stated_result_is_checked_under_an_observation(tmp_path: Path) -> None:
    runtime = release("wasmtime", "0.40.0")
    # a byte of the add function's code flipped, so that it still runs and returns another value
    for offset in range(0, 24):
        text = WRONG_VALUE.replace("OFFSET", str(offset))
        run = run_on("wrong_value", runtime, tmp_path / str(offset), text)
        call = run["steps"][-1]
        if call["outcome"] == "ok" and call["values"][0]["value"] != 42:
            break
    else:
        pytest.fail("no flip in the first 24 bytes of code gives a wrong value on 0.40.0")
    assert run["status"] == "fail" and call["met"] is False
    assert call["why"].startswith("expected results [42], got [")
