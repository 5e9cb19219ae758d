"""The wasmtime adapters against a spread of real releases, each in a throwaway env made with uv.

Slow (it installs twelve releases from the package index on first use, then reuses them), so it
is marked `matrix`; CI runs it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from runtime_envs import cached_env, release

pytestmark = [pytest.mark.integration, pytest.mark.matrix]

RELEASES = [
    "0.20.0",
    "0.30.0",
    "0.40.0",
    "5.0.0",
    "14.0.0",
    "15.0.0",
    "25.0.0",
    "32.0.0",
    "33.0.0",
    "38.0.0",
    "39.0.0",
    "50.0.1",
]
ERAS = {"0.20.0": "wasmtime_v20", "0.30.0": "wasmtime_v28"}  # the adapter each must get


def release_env(version: str) -> str:
    return cached_env(f"wasmtime-{version}", sys.executable, [f"wasmtime=={version}"])


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One run of every bundled scenario on every release; a release this machine cannot start
    is in it as not usable, and its tests are skipped (see runtime_envs)."""
    pythons = [release_env(v) for v in RELEASES]
    out = tmp_path_factory.mktemp("matrix")
    args = [sys.executable, "-m", "harness", "run", "--out", str(out), "--reruns", "0"]
    for python in pythons:
        args += ["--python", python]
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=1800, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads((out / "compat.json").read_text())


def runs_on(doc: dict, version: str) -> dict[str, dict]:
    release("wasmtime", version)  # or the test is skipped: this machine cannot start it
    name = f"wasmtime-{version}"
    return {
        r["case"]: r
        for r in doc["runs"]
        if r.get("runtime") == name or r.get("from") == r.get("to") == name  # or the control
    }


def test_the_run_has_every_release_and_no_harness_error(matrix: dict) -> None:
    assert len(matrix["runtimes"]) == len(RELEASES)  # usable or not, each is in the document
    assert matrix["summary"]["harness_errors"] == 0


@pytest.mark.parametrize("version", RELEASES)
def test_every_release_runs_every_scenario(matrix: dict, version: str) -> None:
    runs = runs_on(matrix, version)
    (runtime,) = [r for r in matrix["runtimes"] if r["name"] == f"wasmtime-{version}"]
    assert (runtime["status"], runtime["version"]) == ("ok", version), runtime["reason"]
    assert runtime["adapter"] == ERAS.get(version, runtime["adapter"])
    assert sorted(runs) == sorted(runs_on(matrix, RELEASES[-1]))  # the same cases as the newest


def test_newest_release_meets_every_expectation(matrix: dict) -> None:
    runs = runs_on(matrix, "50.0.1")
    ended = ("pass", "not_run", "unsupported")
    failing = {k: r["reason"] for k, r in runs.items() if r["status"] not in ended}
    assert failing == {}
    # wazero's RuntimeConfig options are no wasmtime Config attributes: the one scenario of them
    unsupported = [k for k, r in runs.items() if r["status"] == "unsupported"]
    assert unsupported == ["engine_settings_wazero"]
    # only wasmtime here: nothing of the other family can produce the foreign artifact
    assert [k for k, r in runs.items() if r["status"] == "not_run"] == ["deserialize_other_family"]


def test_fuel_on_0_20_is_unsupported_not_an_error(matrix: dict) -> None:
    fuel = runs_on(matrix, "0.20.0")["fuel_exhaustion"]
    assert fuel["status"] == "unsupported"
    assert "consume_fuel" in fuel["steps"][0]["message"]


def test_gc_on_25_is_unsupported_not_an_error(matrix: dict) -> None:
    assert runs_on(matrix, "25.0.0")["features[feature=gc]"]["status"] == "unsupported"


@pytest.mark.parametrize("version", ["0.30.0", "14.0.0", "39.0.0", "50.0.1"])
def test_the_code_flip_crash_is_a_real_sigsegv(matrix: dict, version: str) -> None:
    # wherever artifacts are ELF files
    step = runs_on(matrix, version)["deserialize_code_flip_crash"]["steps"][-1]
    assert (step["outcome"], step["signal"]) == ("crash", "SIGSEGV")


def test_0_30_never_applies_a_second_memorys_data_segment(matrix: dict) -> None:
    # 0.30.0's run() gives 40, not 42; 0.40.0 gets it right
    mm = runs_on(matrix, "0.30.0")["features[feature=multi_memory]"]
    call = next(s for s in mm["steps"] if s["op"] == "call")
    assert call["values"] == [{"type": "i32", "value": 40}]
    assert runs_on(matrix, "0.40.0")["features[feature=multi_memory]"]["status"] == "pass"
