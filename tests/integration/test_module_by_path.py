"""Issue 18: an application's own .wasm, given by a path relative to the scenario, compiled,
cached across a restart and called, on the wasmtime installed in this interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("own_wasmtime")]

# add(i32, i32) as no encoder writes it: a five-byte LEB128 section size and a custom section
# after the code. The runtime must see these 54 bytes, not a re-encoding of them.
PLUGIN = bytes.fromhex(
    "0061736d01000000"
    "0187808080000160027f7f017f"
    "03020100"
    "070701036164640000"
    "0a09010700200020016a0b"
    "000706" + b"marker".hex()
)

SCENARIO = """\
params: [{off: 0}]
steps:
  - compile: ../build/plugin.wasm
  - instantiate
  - call: {export: add, args: [40, 2], results: [42]}
  - serialize: {to: plugin.cwasm}
  - restart
  - deserialize: {from: plugin.cwasm}
  - instantiate
  - call: {export: add, args: [1, 2], results: [3]}
  - deserialize: {from: plugin.cwasm, as: bad, corrupt: {flip: ["${off}"]}, expect: error}
"""


def test_an_applications_wasm_by_path_runs_byte_for_byte(tmp_path: Path) -> None:
    # the project is tmp_path (it holds scenarios/); it has no wasm_fixtures/, none is needed
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "plugin.wasm").write_bytes(PLUGIN)
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "plugin.yaml").write_text(SCENARIO)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", "scenarios", "--out", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (run,) = json.loads((out / "compat.json").read_text())["runs"]
    assert run["status"] == "pass", run
    outcomes = [(s["op"], s["outcome"]) for s in run["steps"]]
    assert outcomes == [
        ("compile", "ok"),
        ("instantiate", "ok"),
        ("call", "ok"),
        ("serialize", "ok"),
        ("deserialize", "ok"),
        ("instantiate", "ok"),
        ("call", "ok"),
        ("deserialize", "error"),  # the artifact's first byte flipped: refused, not crashed
    ]
    assert run["steps"][0]["detail"]["wasm_bytes"] == len(PLUGIN)  # as the file holds it
