"""A coordinator killed outright (SIGKILL, SIGTERM) leaves no process of its run behind in either
isolation mode, at any point of the run; its temporary folders go at the next start; and a
worker killed by someone else is run again rather than recorded as the runtime's crash. Real
wasmtime (this interpreter's), real workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from test_spine_integration import processes_under

from harness.execution.pool import RUN_FOLDER_PREFIX, WorkerPool
from harness.execution.run import run_case
from harness.model.runtime import Runtime
from harness.scenario.suite import load_suite

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("own_wasmtime")]

ROOT = Path(__file__).resolve().parents[2]
LOOP = ROOT / "scenarios" / "infinite_loop_timeout.yaml"
MARK = "WASM_COMPAT_TEST_RUN_MARK"


def marked(mark: str) -> list[str]:
    """Processes carrying this run's marker in their environment (every worker inherits it)."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and needle in environ.split(b"\0"):
            found.append(entry.name)
    return found


def wait_for(condition, coordinator=None, seconds: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the run never got there"
        if coordinator is not None:
            assert coordinator.poll() is None, f"the run ended first ({coordinator.returncode})"
        time.sleep(0.01)


def start(tmp_path: Path, isolation: str, mark: str, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, MARK: mark, "WASM_COMPAT_ISOLATION": isolation}
    env["TMPDIR"] = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir(exist_ok=True)
    command = [sys.executable, "-m", "harness", "run", str(LOOP), "--python", sys.executable]
    return subprocess.Popen(
        [*command, "--out", str(out), "--reruns", "0"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )


def in_segment(out: Path) -> bool:
    """A case's segment is running (not a probe: those run under work/.probe)."""
    probes = str(out / "work" / ".probe")
    return any(_cwd(p) and not _cwd(p).startswith(probes) for p in processes_under(out / "work"))


def _cwd(pid: str) -> str:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return ""


def others(coordinator: subprocess.Popen[bytes], mark: str) -> list[str]:
    return [p for p in marked(mark) if p != str(coordinator.pid)]


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
@pytest.mark.parametrize("point", ["probing", "hanging_segment", "report"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_coordinator_leaves_no_process_of_its_run(
    tmp_path: Path, isolation: str, point: str, sig: signal.Signals
) -> None:
    mark, out = uuid.uuid4().hex, tmp_path / "out"
    coordinator = start(tmp_path, isolation, mark, out)
    try:
        if point == "probing":  # the first worker: the probe of the runtime
            wait_for(lambda: others(coordinator, mark), coordinator)
        elif point == "hanging_segment":
            wait_for(lambda: in_segment(out), coordinator)
            time.sleep(0.3)  # into the endless call
        else:  # the run is recorded; the coordinator diffs and writes the report
            wait_for(lambda: '"kind": "run"' in _text(out / "results.jsonl"), coordinator)
        coordinator.send_signal(sig)
        coordinator.wait(timeout=30)
        time.sleep(1.0)
        assert marked(mark) == [], f"{isolation}, {point}: orphans one second after {sig.name}"
    finally:
        if coordinator.poll() is None:
            coordinator.kill()
            coordinator.wait()
        for pid in marked(mark):
            os.kill(int(pid), signal.SIGKILL)


def test_a_sigterm_ends_the_run_at_once_and_cleans_up(tmp_path: Path) -> None:
    mark, out = uuid.uuid4().hex, tmp_path / "out"
    coordinator = start(tmp_path, "spawn", mark, out)
    wait_for(lambda: in_segment(out), coordinator)
    coordinator.send_signal(signal.SIGTERM)
    assert coordinator.wait(timeout=10) == 128 + signal.SIGTERM
    assert marked(mark) == []
    assert list((tmp_path / "tmp").iterdir()) == []  # the pool closed: its folder went
    assert '"kind": "run"' not in _text(out / "results.jsonl")  # a segment we ended: no result


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
def test_a_killed_runs_temporary_folder_goes_at_the_next_start(
    tmp_path: Path, isolation: str
) -> None:
    mark, out = uuid.uuid4().hex, tmp_path / "out"
    coordinator = start(tmp_path, isolation, mark, out)
    wait_for(lambda: in_segment(out), coordinator)
    coordinator.kill()
    coordinator.wait()
    left = [p.name for p in (tmp_path / "tmp").iterdir()]
    assert len(left) == 1 and left[0].startswith(RUN_FOLDER_PREFIX)  # everything in one folder
    resumed = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--resume", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TMPDIR": str(tmp_path / "tmp"), "WASM_COMPAT_ISOLATION": isolation},
    )
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_live_runs_folder_is_kept_and_a_reused_pid_does_not_save_one(tmp_path: Path) -> None:
    from harness.execution.pool import process_id, sweep_dead_run_folders

    pid, start_time = process_id().split("-")
    ours = tmp_path / f"{RUN_FOLDER_PREFIX}{pid}-{start_time}-x"
    reused = tmp_path / f"{RUN_FOLDER_PREFIX}{pid}-{int(start_time) + 1}-x"
    gone = tmp_path / f"{RUN_FOLDER_PREFIX}999999999-1-x"
    for folder in (ours, reused, gone):
        folder.mkdir()
    assert sorted(sweep_dead_run_folders(str(tmp_path))) == sorted([str(reused), str(gone)])
    assert ours.exists()


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


# -- a worker killed by someone else -------------------------------------------------------


def _kill_segments(work: Path, times: int, sig: int, stop: threading.Event) -> list[str]:
    """Kill the segment's process under `work`, `times` times, each once it is in the loop."""
    killed: list[str] = []
    seen: set[str] = set()
    while len(killed) < times and not stop.is_set():
        fresh = [p for p in processes_under(work) if p not in seen]
        if fresh:
            time.sleep(0.3)  # into the endless call
            for pid in fresh:
                seen.add(pid)
                try:
                    os.kill(int(pid), sig)
                except ProcessLookupError:
                    continue
                killed.append(pid)
        time.sleep(0.01)
    return killed


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
@pytest.mark.parametrize("times", [1, 2])
def test_a_worker_killed_from_outside_is_run_again(
    tmp_path: Path, own_wasmtime: Runtime, isolation: str, times: int
) -> None:
    suite = load_suite([LOOP], None, build=True)
    (case,) = suite.cases()
    out = tmp_path / "out"
    stop = threading.Event()
    killed: list[str] = []
    killer = threading.Thread(
        target=lambda: killed.extend(_kill_segments(out / "work", times, signal.SIGKILL, stop))
    )
    killer.start()
    try:
        with WorkerPool(isolation) as pool:
            record = run_case(
                case, own_wasmtime, suite.builders[case.scenario.path], out, 60, 0, pool
            )
    finally:
        stop.set()
        killer.join()
    assert len(killed) == times
    assert record["segment_retried"] == "segment 0 killed from outside by SIGKILL"
    spin = record["steps"][-1]
    if times == 1:  # the retry hung as the scenario expects: no crash of the runtime
        assert (spin["outcome"], spin["met"], record["status"]) == ("timeout", True, "pass")
    else:  # it died so again: the runtime's crash, as before
        assert (spin["outcome"], spin["signal"], record["status"]) == ("crash", "SIGKILL", "fail")
    json.dumps(record)
