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
from runtime_envs import cached_env

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


def release_env(version: str) -> str:
    return cached_env(f"wasmtime-{version}", sys.executable, [f"wasmtime=={version}"])


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> dict:
    pythons = [release_env(v) for v in RELEASES]
    out = tmp_path_factory.mktemp("matrix")
    args = [sys.executable, "-m", "harness", "run", "--out", str(out), "--reruns", "0"]
    for python in pythons:
        args += ["--python", python]
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=1800, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads((out / "compat.json").read_text())


def runs_on(doc: dict, version: str) -> dict[str, dict]:
    name = f"wasmtime-{version}"
    return {
        r["case"]: r
        for r in doc["runs"]
        if r.get("runtime") == name or r.get("from") == r.get("to") == name  # or the control
    }


def test_every_release_runs_every_scenario_without_harness_errors(matrix: dict) -> None:
    assert [r["version"] for r in matrix["runtimes"]] == RELEASES
    assert all(r["status"] == "ok" for r in matrix["runtimes"])
    assert matrix["summary"]["harness_errors"] == 0
    per_release = {v: len(runs_on(matrix, v)) for v in RELEASES}
    assert len(set(per_release.values())) == 1, per_release
    eras = {r["version"]: r["adapter"] for r in matrix["runtimes"]}
    assert eras["0.20.0"] == "wasmtime_v20" and eras["0.30.0"] == "wasmtime_v30"


def test_newest_release_meets_every_expectation(matrix: dict) -> None:
    runs = runs_on(matrix, "50.0.1")
    failing = {k: r["reason"] for k, r in runs.items() if r["status"] not in ("pass", "not_run")}
    assert failing == {}
    # only wasmtime here: nothing of the other family can produce the foreign artifact
    assert [k for k, r in runs.items() if r["status"] == "not_run"] == ["deserialize_other_family"]


def test_old_releases_report_unsupported_not_errors(matrix: dict) -> None:
    old = runs_on(matrix, "0.20.0")
    fuel = old["fuel_exhaustion"]
    assert fuel["status"] == "unsupported"
    assert "consume_fuel" in fuel["steps"][0]["message"]
    assert runs_on(matrix, "25.0.0")["features[feature=gc]"]["status"] == "unsupported"


def test_real_differences_between_releases_show(matrix: dict) -> None:
    # 0.30.0 never applies the data segment of a second memory: run() gives 40, not 42
    mm = runs_on(matrix, "0.30.0")["features[feature=multi_memory]"]
    call = next(s for s in mm["steps"] if s["op"] == "call")
    assert call["values"] == [{"type": "i32", "value": 40}]
    assert runs_on(matrix, "0.40.0")["features[feature=multi_memory]"]["status"] == "pass"
    # the code-flip crash is a real SIGSEGV wherever artifacts are ELF files
    for version in ("0.30.0", "14.0.0", "39.0.0", "50.0.1"):
        step = runs_on(matrix, version)["deserialize_code_flip_crash"]["steps"][-1]
        assert (step["outcome"], step["signal"]) == ("crash", "SIGSEGV"), version
