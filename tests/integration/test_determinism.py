"""Two runs of the same matrix give the same compat.json, apart from timing, whatever -j is."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("own_wasmtime")]

ROOT = Path(__file__).resolve().parents[2]
# What may differ between two runs of the same thing: clocks, and the stderr tails of crashed
# processes (thread ids and addresses in Python's fatal-error dump).
TIMING = {"started", "finished", "duration_s", "compile_s", "stderr_tail"}


def without_timing(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k not in TIMING}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def test_two_runs_give_the_same_document(tmp_path: Path) -> None:
    out = tmp_path / "out"
    documents = []
    for jobs in ("1", "2"):
        proc = subprocess.run(
            # --fresh: the second is run, not reused from the first (tests/conftest.py)
            [sys.executable, "-m", "harness", "run", "--out", str(out), "-j", jobs, "--fresh"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        documents.append(json.loads((out / "compat.json").read_text()))
        shutil.rmtree(out)
    first, second = (without_timing(d) for d in documents)
    assert [r["case"] for r in first["runs"]] == [r["case"] for r in second["runs"]]
    for a, b in zip(first["runs"], second["runs"]):
        assert a == b, a["case"]
    assert first == second
