"""An expectation pattern that backtracks without end, matched by a real worker against a real
runtime's message: the scenario's error, with the runtime's outcome and message kept."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("own_wasmtime")]

ROOT = Path(__file__).resolve().parents[2]
NAME = "x" * 40  # (x+x+)+y tries 2^40 ways through it
SCENARIO = f"""\
description: an expectation pattern that backtracks without end against the runtime's message
timeout: 20
steps:
  - compile: add
  - instantiate
  - call: {{export: {NAME}, args: [1, 2], expect: {{error: "(x+x+)+y"}}}}
  - close: [instance]
"""


def test_a_pattern_too_slow_to_match_is_the_scenarios_error(tmp_path: Path) -> None:
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "wasm_fixtures").mkdir()
    shutil.copy(ROOT / "wasm_fixtures" / "add.wat", tmp_path / "wasm_fixtures")
    (tmp_path / "scenarios" / "slow_pattern.yaml").write_text(SCENARIO)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", str(tmp_path / "scenarios"), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    (run,) = json.loads((out / "compat.json").read_text())["runs"]
    call = next(s for s in run["steps"] if s["op"] == "call")
    assert (call["outcome"], call["error_kind"], call["met"]) == ("error", "runtime", False)
    assert call["message"] == f"instance has no export '{NAME}'"  # the runtime's own, kept
    assert call["why"] == "expectation pattern /(x+x+)+y/ took longer than 1 s: simplify it"
    assert call["duration_s"] < 5
    assert "expectation pattern /(x+x+)+y/ took longer than 1 s" in proc.stdout
