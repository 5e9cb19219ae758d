"""Explore: generated lifecycles are valid scenarios, and a real difference between two real
releases is shrunk to a minimal scenario file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from runtime_envs import cached_env

from harness.scenario.loader import load_scenario
from harness.scenario.model import cases, parse_scenario
from harness.search import explore, lifecycles

ROOT = Path(__file__).resolve().parents[3]


@settings(max_examples=300)
@given(lifecycles.sequences())
def test_every_generated_sequence_is_a_valid_scenario(sequence: lifecycles.Sequence) -> None:
    scenario = parse_scenario(sequence.document("generated"), {}, "generated.yaml", "generated")
    (case,) = cases(scenario)
    assert case.fixtures <= set(lifecycles.LIBRARY) | {name for name, _ in sequence.modules}
    assert all(step.expect.kind == "any" for segment in case.segments for step in segment)


def run(outcome: str, step: int | None = None, **fields: object) -> dict[str, object]:
    steps = [] if step is None else [{"index": step, "op": "call", "outcome": outcome, **fields}]
    return {"outcome": outcome, "steps": steps}


def test_judge_names_crashes_and_differences() -> None:
    assert explore.judge(run("ok"), run("ok")) is None
    assert explore.judge(run("crash", 2, signal="SIGSEGV"), run("crash", 2)) == "crash"
    assert explore.judge(run("error", 1, message="a"), run("error", 1, message="b")) is None
    assert explore.judge(run("error", 1), run("error", 3)) == "difference"
    assert explore.judge(run("error", 0), run("ok")) == "difference"


@pytest.mark.integration
@pytest.mark.matrix
def test_a_fixed_seed_finds_a_real_difference_and_writes_a_minimal_scenario(
    tmp_path: Path,
) -> None:
    from harness.execution.probe import probe

    runtimes = tuple(
        probe(
            cached_env(f"wasmtime-{v}", sys.executable, [f"wasmtime=={v}"]),
            tmp_path / "probe" / v,
            f"wasmtime-{v}",
            "wasmtime",
        )
        for v in ("0.30.0", "0.40.0")
    )
    lines: list[str] = []
    explorer = explore.Explorer(runtimes, ROOT / "wasm_fixtures", tmp_path / "work", lines.append)
    found = explore.explore(explorer, 40, 1, tmp_path / "db")
    assert found is not None and found.kind == "difference"
    # 0.30.0 refuses SIMD by default, 0.40.0 compiles it: shrunk to that one step
    assert found.sequence.steps == ({"compile": {"fixture": "feature_simd", "expect": "any"}},)
    assert any(line.startswith("! ") for line in lines)
    names = (runtimes[0].name, runtimes[1].name)
    (project := tmp_path / "project").mkdir()
    (project / "wasm_fixtures").symlink_to(ROOT / "wasm_fixtures")
    path = explore.write_finding(
        found, names, project / "scenarios" / "found", project / "wasm_fixtures", "explore"
    )
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert "wasmtime-0.30.0: error" in text and "wasmtime-0.40.0: ok" in text
    assert load_scenario(path).name == path.stem  # an ordinary, valid scenario
    # the example database replays the finding: a second search starts from it
    again = explore.explore(explorer, 1, 2, tmp_path / "db")
    assert again is not None and again.sequence == found.sequence
