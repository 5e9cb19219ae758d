"""Bisect: the pure search, and a real boundary found among real wasmtime releases."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness import bisect
from harness.bisect import DIFFERENT, SAME, UNTESTABLE, BisectError, between, search

ROOT = Path(__file__).resolve().parent.parent


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


@pytest.mark.integration
@pytest.mark.matrix
def test_bisect_names_the_release_that_started_aborting(tmp_path: Path) -> None:
    # reference types on, bulk memory off: 0.30.0 accepts it, 0.40.0 aborts creating the Engine
    from harness.suite import load_suite

    suite = load_suite([ROOT / "scenarios" / "config_reference_types_without_bulk_memory.yaml"])
    (case,) = suite.cases()
    request = bisect.Request(
        case, suite.builders[case.scenario.path], "wasmtime", "0.30.0", "0.40.0"
    )
    lines: list[str] = []
    versions = bisect.index_versions("wasmtime", "3.11")
    assert "0.35.0" in versions and "0.39.0" not in versions  # the index lists 0.39.1 only
    found = bisect.bisect(request, tmp_path, lines.append, versions)
    assert (found.last_good, found.first_bad) == ("0.38.0", "0.39.1")
    assert found.good["outcome"] == "ok" and found.bad["outcome"] == "crash"
    assert len(found.tested) < len(bisect.between(versions, "0.30.0", "0.40.0"))
    assert lines[0] == "9 release(s) between 0.30.0 and 0.40.0"


@pytest.mark.integration
@pytest.mark.matrix
def test_the_bisect_command_prints_the_release_and_the_evidence() -> None:
    import subprocess
    import sys

    bisect_cmd = (sys.executable, "-m", "harness", "bisect")
    scenario = ROOT / "scenarios" / "config_reference_types_without_bulk_memory.yaml"
    proc = subprocess.run(
        [*bisect_cmd, str(scenario), "--family", "wasmtime", "--good", "0.38.0", "--bad", "0.40.0"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    assert "first release that differs: wasmtime 0.39.1 (0.38.0 is the last" in proc.stdout
    assert "0.39.1  crash (SIGABRT)" in proc.stdout
    traps = ROOT / "scenarios" / "traps.yaml"
    bad = subprocess.run(
        [*bisect_cmd, str(traps), "--family", "wasmtime", "--good", "0.30.0", "--bad", "0.40.0"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "pick one parameter set with --param" in bad.stderr
