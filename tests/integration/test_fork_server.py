"""Warm forks: a segment forked from a runtime's fork server is the same as a fresh interpreter.

Real wasmtime (the one installed here), real processes; no timings are asserted.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_spine_integration import processes_under

from harness.errors import HarnessError
from harness.execution.pool import ISOLATION_ENV, WorkerPool
from harness.execution.probe import probe
from harness.execution.run import run_case
from harness.execution.segment import run_segment
from harness.model.runtime import Runtime, WorkerCommand
from harness.scenario.model import Case
from harness.scenario.suite import Suite, load_suite

pytestmark = pytest.mark.integration
pytest.importorskip("wasmtime")

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
COMPARED = ("op", "outcome", "met", "error_kind", "error_type", "trap_code", "exit_code", "signal")
WASMTIME = WorkerCommand.python(sys.executable, "wasmtime")


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[WorkerPool]:
    """The test's worker processes, as a command owns them."""
    monkeypatch.delenv(ISOLATION_ENV, raising=False)
    with WorkerPool() as pool:
        yield pool


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    found = probe(sys.executable, tmp_path_factory.mktemp("probe"), family="wasmtime")
    assert found.unavailable is None, found.unavailable
    return found


def cases_of(*names: str) -> tuple[Suite, list[Case]]:
    suite = load_suite([SCENARIOS / f"{n}.yaml" for n in names], build=True)
    assert not suite.errors, suite.errors
    return suite, suite.cases()


def run(case: Case, suite: Suite, runtime: Runtime, out: Path, pool: WorkerPool) -> dict[str, Any]:
    return run_case(case, runtime, suite.builders[case.scenario.path], out, 60, 2048, pool)


def summary(record: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (*(s.get(k) for k in COMPARED), s.get("normalized_message"), s.get("values"))
        for s in record["steps"]
    ]


def test_fork_and_spawn_give_the_same_results(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pool: WorkerPool
) -> None:
    suite, cases = cases_of(
        "compile_call_close", "serialize_restart_imports", "traps", "cache_dir_restart"
    )
    forked = [run(c, suite, runtime, tmp_path / "fork", pool) for c in cases]
    monkeypatch.setenv(ISOLATION_ENV, "spawn")
    with WorkerPool() as spawning:
        spawned = [run(c, suite, runtime, tmp_path / "spawn", spawning) for c in cases]
    assert [summary(r) for r in forked] == [summary(r) for r in spawned]
    assert all(r["status"] == "pass" for r in forked), [r["reason"] for r in forked]
    for record in forked:
        assert {s["isolation"] for s in record["segments"]} == {"fork"}
        assert {s["isolation_reason"] for s in record["segments"]} == {None}
    for record in spawned:
        assert {s["isolation"] for s in record["segments"]} == {"spawn"}
        assert {s["isolation_reason"] for s in record["segments"]} == {
            "WASM_COMPAT_ISOLATION=spawn"
        }


def test_a_forked_child_is_its_own_session_in_the_work_dir_with_its_env(
    tmp_path: Path, pool: WorkerPool
) -> None:
    seg = run_segment(WASMTIME, [], 0, tmp_path, {}, 60, 512, pool=pool)
    assert seg.isolation == "fork" and seg.completed and seg.returncode == 0
    server, _ = pool.server_for(WASMTIME)
    assert server is not None
    assert seg.runtime == server.ready["runtime"]
    # what a fresh worker reports about itself, the child reports too
    assert seg.python == server.ready["python"]


@pytest.mark.parametrize(
    ("scenario", "op", "fields"),
    [
        ("deserialize_code_flip_crash", "call", {"outcome": "crash", "signal": "SIGSEGV"}),
        ("host_exit_crash", "call", {"outcome": "crash", "exit_code": 7}),
        ("infinite_loop_timeout", "call", {"outcome": "timeout"}),
    ],
)
def test_a_dying_child_is_a_crash_or_timeout_on_its_step(
    runtime: Runtime,
    tmp_path: Path,
    pool: WorkerPool,
    scenario: str,
    op: str,
    fields: dict[str, Any],
) -> None:
    suite, (case,) = cases_of(scenario)
    record = run(case, suite, runtime, tmp_path, pool)
    failed = next(s for s in record["steps"] if s["outcome"] not in ("ok", "not_run"))
    assert failed["op"] == op
    assert {k: failed.get(k) for k in fields} == fields
    assert record["segments"][-1]["isolation"] == "fork"
    assert record["status"] == "pass"  # each of these scenarios expects exactly that
    assert processes_under(tmp_path) == []


def test_concurrent_requests_share_one_server(
    runtime: Runtime, tmp_path: Path, pool: WorkerPool
) -> None:
    suite, (case,) = cases_of("compile_call_close")
    records: list[dict[str, Any]] = []

    def one(n: int) -> None:
        records.append(run(case, suite, runtime, tmp_path / str(n), pool))

    threads = [threading.Thread(target=one, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r["status"] for r in records] == ["pass"] * 8
    assert {s["isolation"] for r in records for s in r["segments"]} == {"fork"}


def fake_env(tmp_path: Path, name: str, init: str, system_site: bool = False) -> str:
    """A venv whose `wasmtime` is a stand-in package running `init` when it is imported."""
    venv = tmp_path / name
    flags = ["--system-site-packages"] if system_site else []
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", *flags, str(venv)], check=True)
    (site,) = venv.glob("lib/python*/site-packages")
    if init:
        (site / "wasmtime").mkdir()
        (site / "wasmtime" / "__init__.py").write_text(textwrap.dedent(init))
        info = site / "wasmtime-50.0.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: wasmtime\nVersion: 50.0.0\n")
    return str(venv / "bin" / "python")


def test_a_runtime_whose_import_kills_the_server_is_unavailable(
    tmp_path: Path, pool: WorkerPool
) -> None:
    python = fake_env(
        tmp_path, "abort", "import os, signal\nos.kill(os.getpid(), signal.SIGABRT)\n"
    )
    found = probe(python, tmp_path / "probe", family="wasmtime", pool=pool)
    assert found.unavailable is not None
    seg = run_segment(python, [], 0, tmp_path / "w", {}, 60, 0, "wasmtime", pool=pool)
    assert seg.isolation == "spawn"
    assert seg.isolation_reason is not None and "SIGABRT" in seg.isolation_reason
    assert seg.returncode == -signal.SIGABRT and seg.runtime is None


def test_the_real_ld_so_assertion_is_unavailable_as_before(
    tmp_path: Path, pool: WorkerPool
) -> None:
    python = ROOT / ".tox" / "wasmer-1.1.0-universal-llvm" / "bin" / "python"
    if not python.exists():
        pytest.skip("tox env wasmer-1.1.0-universal-llvm is not provisioned")
    found = probe(str(python), tmp_path, family="wasmer", variant="universal-llvm", pool=pool)
    assert found.unavailable is not None
    assert "wasmer_compiler_llvm" in found.unavailable


def test_threads_after_the_import_mean_spawn_with_the_reason(
    tmp_path: Path, pool: WorkerPool
) -> None:
    python = fake_env(tmp_path, "threads", "", system_site=True)
    (site,) = (tmp_path / "threads").glob("lib/python*/site-packages")
    (site / "zz_thread.pth").write_text(
        "import threading, time; "
        "threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()\n"
    )
    seg = run_segment(python, [], 0, tmp_path / "w", {}, 60, 0, "wasmtime", pool=pool)
    assert seg.completed and seg.runtime is not None
    assert seg.isolation == "spawn"
    assert re.search(r"[2-9] threads after importing the runtime", seg.isolation_reason or "")


def test_an_unknown_isolation_mode_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ISOLATION_ENV, "thread")
    with pytest.raises(HarnessError, match="must be 'fork' or 'spawn'"):
        WorkerPool()
    with pytest.raises(HarnessError, match="must be 'fork' or 'spawn'"):
        run_segment(sys.executable, [], 0, tmp_path, {}, 60, 0, "wasmtime")  # a pool of its own


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def test_closing_the_pool_leaves_no_process_or_folder_behind(tmp_path: Path) -> None:
    with WorkerPool() as pool:
        seg = run_segment(WASMTIME, [], 0, tmp_path, {}, 60, 0, pool=pool)
        assert seg.isolation == "fork"
        server, _ = pool.server_for(WASMTIME)
        assert server is not None
        pid, folder = server.ready["pid"], Path(pool.pythonpath)
        assert alive(pid) and folder.is_dir()
    assert not alive(pid) and not folder.exists()
    assert processes_under(tmp_path) == []
    with pytest.raises(RuntimeError, match="after it was closed"):
        pool.server_for(WASMTIME)


def test_an_error_in_the_command_still_closes_its_pool(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), WorkerPool() as pool:
        run_segment(WASMTIME, [], 0, tmp_path, {}, 60, 0, pool=pool)
        server, _ = pool.server_for(WASMTIME)
        assert server is not None
        pid = server.ready["pid"]
        raise KeyboardInterrupt
    assert not alive(pid)


def test_a_call_without_a_pool_opens_and_closes_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the pool makes its folders
    seg = run_segment(WASMTIME, [], 0, tmp_path / "w", {}, 60, 0)
    assert seg.isolation == "fork" and seg.completed
    assert list(scratch.iterdir()) == []
    assert processes_under(tmp_path) == []


def test_a_worker_that_is_not_the_python_worker_starts_afresh_for_every_segment(
    runtime: Runtime, tmp_path: Path, pool: WorkerPool
) -> None:
    # a command line of the runtime's own (here a shell that starts the Python worker)
    shell = ("/bin/sh", "-c", 'exec "$0" -m harness.worker "$@"', sys.executable)
    other = dataclasses.replace(runtime, worker=shell)
    assert not other.forkable and runtime.forkable
    assert other.to_json()["worker"] == list(shell)
    assert runtime.to_json()["worker"] == [sys.executable, "-m", "harness.worker"]
    suite, (case,) = cases_of("serialize_restart_imports")
    record = run(case, suite, other, tmp_path, pool)
    assert record["status"] == "pass", record["reason"]
    assert {s["isolation"] for s in record["segments"]} == {"spawn"}
    assert {s["isolation_reason"] for s in record["segments"]} == {
        "only a Python worker can be forked"
    }


COORDINATOR = """
import sys
from pathlib import Path
from harness.execution.pool import WorkerPool
from harness.execution.segment import run_segment
from harness.model.runtime import WorkerCommand
work = Path(sys.argv[1])
worker = WorkerCommand.python(sys.executable, "wasmtime")
pool = WorkerPool()
server, _ = pool.server_for(worker)
steps = [
    {"index": 0, "op": "compile", "line": 1, "expect": {"kind": "ok"},
     "args": {"fixture": "loop", "as": "m", "engine": {}}},
    {"index": 1, "op": "instantiate", "line": 2, "expect": {"kind": "ok"},
     "args": {"module": "m", "as": "i", "store": "s", "imports": []}},
    {"index": 2, "op": "call", "line": 3, "expect": {"kind": "ok"},
     "args": {"instance": "i", "export": "spin", "args": []}},
]
print(server.ready["pid"], flush=True)
run_segment(worker, steps, 0, work, {"loop": sys.argv[2]}, 600, 0, pool=pool)
"""


def test_a_killed_coordinator_leaves_no_process_behind(tmp_path: Path) -> None:
    suite, (case,) = cases_of("infinite_loop_timeout")
    wasm = suite.builders[case.scenario.path].build("loop")
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-c", COORDINATOR, str(work), str(wasm)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},  # what a killed coordinator cannot remove
    )
    assert proc.stdout is not None
    server = int(proc.stdout.readline())
    deadline = time.monotonic() + 60
    while not processes_under(work) and time.monotonic() < deadline:  # the forked child
        time.sleep(0.05)
    assert processes_under(work), "the segment's process never started"
    time.sleep(0.5)  # into the endless call
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while (processes_under(work) or alive(server)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_under(work) == []
    assert not alive(server)


def test_a_server_that_dies_between_segments_means_spawn_with_the_reason(
    tmp_path: Path, pool: WorkerPool
) -> None:
    assert run_segment(WASMTIME, [], 0, tmp_path, {}, 60, 0, pool=pool).isolation == "fork"
    server, _ = pool.server_for(WASMTIME)
    assert server is not None
    os.kill(server.ready["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while alive(server.ready["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # its reader thread sees the socket close
    seg = run_segment(WASMTIME, [], 0, tmp_path, {}, 60, 0, pool=pool)
    assert seg.completed and seg.runtime is not None
    assert seg.isolation == "spawn"
    assert "SIGKILL" in (seg.isolation_reason or "")
