"""Misbehaving runtimes and hostile output: each ends as its outcome within its limits, and what
it printed is stored truncated and shown inert in every report. Real wasmtime, real workers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("own_wasmtime")]

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ROOT / "tests" / "data" / "hostile" / "scenarios"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, float]:
    out = tmp_path_factory.mktemp("hostile")
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", str(HOSTILE), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((out / "compat.json").read_text()), out, time.monotonic() - started


def step(doc: dict, scenario: str, index: int) -> dict:
    (run,) = [r for r in doc["runs"] if r["scenario"] == scenario]
    return next(s for s in run["steps"] if s["index"] == index)


def test_a_hang_in_native_code_with_signals_blocked_is_a_timeout(hostile_run: tuple) -> None:
    doc, _, elapsed = hostile_run
    hang = step(doc, "native_hang", 2)
    assert (hang["op"], hang["outcome"], hang["met"]) == ("call", "timeout", True)
    assert "no result within 2 s" in hang["message"]
    assert doc["summary"]["harness_errors"] == 0
    assert elapsed < 60  # 2 s + 5 s limits, SIGINT and SIGTERM ignored, SIGKILL ends them


def test_a_flood_on_stdout_is_stored_truncated_and_rendered_inert(hostile_run: tuple) -> None:
    doc, out, _ = hostile_run
    flood, hang = step(doc, "stdout_flood", 2), step(doc, "stdout_flood", 3)
    assert flood["outcome"] == "ok" and hang["outcome"] == "timeout"
    tail = hang["stderr_tail"]
    assert "<b>flood</b>" in tail and "\x1b[31m" in tail and "\ufffd" in tail
    assert len(tail) <= 4100  # 100 MB written, a few KB kept
    assert (out / "compat.json").stat().st_size < 2_000_000
    html = (out / "compat.html").read_text()
    assert "<b>flood</b>" not in html  # only inside the escaped JSON payload
    ElementTree.parse(out / "junit.xml")  # control characters made visible, still XML
    assert "\x1b" not in (out / "junit.xml").read_text()
