"""A matrix run killed with SIGKILL is finished by `run --resume` from results.jsonl, and leaves
no process behind: real wasmtime, real workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_spine_integration import processes_under

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def recorded_runs(out: Path) -> int:
    path = out / "results.jsonl"
    if not path.exists():
        return 0
    return sum(1 for line in path.read_text().splitlines() if '"kind": "run"' in line)


def orphaned_workers() -> list[str]:
    """Worker processes (warm or forked) whose coordinator is gone: re-parented to init."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes()
            ppid = next(
                line.split()[1]
                for line in (entry / "status").read_text().splitlines()
                if line.startswith("PPid:")
            )
        except (OSError, StopIteration):
            continue
        if b"harness.worker" in cmdline and ppid == "1":
            found.append(entry.name)
    return found


def private_tmp(tmp_path: Path) -> dict[str, str]:
    """The environment of a coordinator whose temporary folders go under tmp_path/tmp."""
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(tmp_path / "tmp")}


def wait_until_gone(folder: Path, seconds: float = 10.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while (processes_under(folder) or orphaned_workers()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return processes_under(folder) + orphaned_workers()


def test_a_killed_run_is_resumed_without_losing_or_repeating_runs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "harness", "run", "--out", str(out), "-j", "1"]
    coordinator = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=private_tmp(tmp_path),  # the folders a SIGKILL leaves behind land there
    )
    deadline = time.monotonic() + 120
    while recorded_runs(out) < 12 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(coordinator.pid, signal.SIGKILL)
    coordinator.wait()
    killed_at = recorded_runs(out)
    assert killed_at >= 12 and not (out / "compat.json").exists()
    assert wait_until_gone(out) == []  # the warm worker and its children went with it

    resumed = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--resume", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    first = next(ln for ln in resumed.stdout.splitlines() if ln.startswith("resuming"))
    recorded, to_go = (int(w) for w in first.replace(",", "").split() if w.isdigit())
    assert recorded == killed_at or recorded == killed_at - 1  # a half-written last line
    doc = json.loads((out / "compat.json").read_text())
    keys = [(r["scenario"], r["params_id"], r.get("runtime")) for r in doc["runs"]]
    assert len(keys) == len(set(keys)) == recorded + to_go
    fresh = subprocess.run(
        [sys.executable, "-m", "harness", "validate"], cwd=ROOT, capture_output=True, text=True
    )
    assert f"{len(keys)} run(s) per runtime" in fresh.stdout
    assert wait_until_gone(out) == []


def test_resume_needs_a_results_file(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--resume", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "no results.jsonl there to resume" in proc.stderr


def test_ctrl_c_stops_a_run_and_leaves_nothing_running(tmp_path: Path) -> None:
    out = tmp_path / "out"
    coordinator = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", "--out", str(out), "-j", "2"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=private_tmp(tmp_path),
    )
    deadline = time.monotonic() + 120
    while recorded_runs(out) < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(coordinator.pid, signal.SIGINT)  # what Ctrl-C sends
    _, stderr = coordinator.communicate(timeout=60)
    assert coordinator.returncode == 130 and "interrupted" in stderr
    assert (out / "compat.json").exists()  # what ran is reported, in a `finally`
    assert wait_until_gone(out) == []
    assert list((tmp_path / "tmp").iterdir()) == []  # the worker pool's folders went too
