"""The worker processes a command uses, owned by that command:

    with WorkerPool() as pool:
        run_case(..., pool)

A pool holds one warm fork server per runtime worker (started on first use) and the folder that
puts the worker on a runtime env's path. Closing it (the end of the `with`, however it ends)
shuts every server down, each killing what it forked, and removes the folder; nothing of it is
global and nothing waits for `atexit`. Segments' own processes are not the pool's: each ends
with its segment (`harness.execution.transport`); the pool only knows them, to end them at once
when the command is told to terminate (SIGTERM, see `__enter__`).

What a SIGKILL cannot clean up is made harmless: every worker is told its coordinator's pid
(`COORDINATOR_ENV`) and dies with it (`harness.worker.__main__.die_with_parent`), a fork server
dies when its control socket closes, and the pool's folders all live in one per-run folder named
with the coordinator's pid and start time, which the next pool removes once that process is gone.

Where forking is unsafe or impossible (the server cannot start, dies, finds threads after the
import, the worker is not a Python one, or `WASM_COMPAT_ISOLATION=spawn`), `server_for` says
why, and the segment runs in a fresh process; the run records which isolation each segment had.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import harness
from harness.errors import HarnessError
from harness.execution.forkserver import ForkServer, ServerUnavailable
from harness.model.runtime import WorkerCommand

ISOLATION_ENV = "WASM_COMPAT_ISOLATION"
FORK, SPAWN = "fork", "spawn"
COORDINATOR_ENV = "WASM_COMPAT_COORDINATOR"  # read by the worker: its coordinator's pid
RUN_FOLDER_PREFIX = "wasm-compat-run-"  # + pid-starttime: one per pool, swept once it is dead


class Terminated(BaseException):
    """The command was told to terminate: a segment it ended is not a result (like Ctrl-C)."""


def isolation_mode() -> str:
    mode = os.environ.get(ISOLATION_ENV, "").strip().lower() or FORK
    if mode not in (FORK, SPAWN):
        raise HarnessError(f"{ISOLATION_ENV} must be {FORK!r} or {SPAWN!r}, found {mode!r}")
    return mode


class WorkerPool:
    """Warm fork servers, one per worker command, and the worker's path; see the module."""

    def __init__(self, isolation: str | None = None) -> None:
        self.isolation = isolation or isolation_mode()
        self._lock = threading.Lock()
        self._servers: dict[WorkerCommand, ForkServer | str] = {}  # or why it spawns instead
        self._starting: dict[WorkerCommand, threading.Lock] = {}
        self._retired: list[ForkServer] = []
        self._run_folder: str | None = None
        self._folder: str | None = None
        self._closed = False
        self._live: set[int] = set()  # the process groups of segments running now
        self.terminating = False
        self._previous_handler: Any = None

    def __enter__(self) -> WorkerPool:
        """On the main thread, SIGTERM ends the segments at once and raises SystemExit(143)
        there, so the command's `finally` blocks and this pool's `close` still run."""
        if threading.current_thread() is threading.main_thread():
            current = signal.getsignal(signal.SIGTERM)
            if current in (signal.SIG_DFL, None):
                self._previous_handler = current
                signal.signal(signal.SIGTERM, self._on_sigterm)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.close()
        finally:
            if self._previous_handler is not None:
                signal.signal(signal.SIGTERM, self._previous_handler)
                self._previous_handler = None

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self.terminate()
        raise SystemExit(128 + signum)

    def terminate(self) -> None:
        """Kill every running segment's process group; their runs are not recorded."""
        with self._lock:
            self.terminating = True
            live = list(self._live)
        for group in live:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)

    def track(self, group: int) -> None:
        with self._lock:
            self._live.add(group)

    def untrack(self, group: int) -> None:
        with self._lock:
            self._live.discard(group)

    @property
    def run_folder(self) -> str:
        """This pool's own temporary folder (the worker's path, the fork servers' homes),
        named so that it can be removed by the next pool if this process is killed."""
        with self._lock:
            self._check_open()
            if self._run_folder is None:
                sweep_dead_run_folders()
                self._run_folder = tempfile.mkdtemp(prefix=f"{RUN_FOLDER_PREFIX}{process_id()}-")
            return self._run_folder

    @property
    def pythonpath(self) -> str:
        """A folder holding only the `harness` package, for the worker's PYTHONPATH.

        Putting the harness's own site-packages on a runtime env's path would leak 3.11
        packages into a 3.9 interpreter; a folder with one symlink exposes exactly our
        stdlib-only code."""
        parent = self.run_folder
        with self._lock:
            self._check_open()
            if self._folder is None:
                folder = tempfile.mkdtemp(prefix="worker-", dir=parent)
                package = Path(harness.__file__).resolve().parent
                os.symlink(package, os.path.join(folder, "harness"))
                self._folder = folder
            return self._folder

    def segment_env(self, workdir: Path) -> dict[str, str]:
        """A worker's environment. Only the work dir survives a restart, so the runtime's
        default cache location (under HOME) goes there."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTHON", "VIRTUAL_ENV", "WASMTIME_", "WASMER_"))
        }
        home = workdir / ".home"
        home.mkdir(parents=True, exist_ok=True)
        env.update(
            PYTHONPATH=self.pythonpath,
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONUNBUFFERED="1",
            PYTHONFAULTHANDLER="1",
            HOME=str(home),
            XDG_CACHE_HOME=str(workdir / ".cache"),
            RUST_BACKTRACE="0",
        )
        env[COORDINATOR_ENV] = str(os.getpid())
        return env

    def server_for(self, worker: WorkerCommand) -> tuple[ForkServer | None, str | None]:
        """The warm server for this worker (started on first use), or None and why not."""
        if self.isolation == SPAWN:
            return None, f"{ISOLATION_ENV}=spawn"
        if not worker.forkable:
            return None, "only a Python worker can be forked"
        if not hasattr(os, "fork") or not hasattr(socket, "send_fds"):
            return None, "this platform cannot fork a warm worker"
        with self._lock:
            self._check_open()
            known = self._servers.get(worker)
            if known is not None:
                return (known, None) if isinstance(known, ForkServer) else (None, known)
            starting = self._starting.setdefault(worker, threading.Lock())
        with starting:  # one thread starts it; the others wait for it
            with self._lock:
                known = self._servers.get(worker)
            if known is None:
                known = self._start(worker)
                with self._lock:
                    self._servers[worker] = known
                    closed = self._closed
                if closed and isinstance(known, ForkServer):  # closed while it started
                    known.close()
                    self._check_open()
        return (known, None) if isinstance(known, ForkServer) else (None, known)

    def _start(self, worker: WorkerCommand) -> ForkServer | str:
        try:
            server = ForkServer(worker, self.segment_env, self.run_folder)
            server.start()
        except ServerUnavailable as exc:
            return str(exc)
        except OSError as exc:
            return f"cannot start: {exc}"
        return server

    def forget(self, worker: WorkerCommand, reason: str) -> None:
        """This worker's server stopped being usable: spawn from now on. It is closed with the
        others, not now: segments it forked for other threads may still be running."""
        with self._lock:
            known = self._servers.get(worker)
            self._servers[worker] = reason
            if isinstance(known, ForkServer):
                self._retired.append(known)

    def close(self) -> None:
        """Shut every server down and remove the worker's folder; the pool is not usable after."""
        with self._lock:
            self._closed = True
            servers = [s for s in self._servers.values() if isinstance(s, ForkServer)]
            servers += self._retired
            self._servers.clear()
            self._retired.clear()
            self._starting.clear()
            folder, self._folder = self._run_folder, None
            self._run_folder = None
        try:
            for server in servers:
                server.close()
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the worker pool is used after it was closed")


def process_id(pid: int | None = None) -> str:
    """`PID-STARTTIME`: a process, told apart from a later one given the same pid."""
    pid = os.getpid() if pid is None else pid
    return f"{pid}-{_start_time(pid)}"


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), "0" where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "0"
    return stat.rsplit(")", 1)[1].split()[19]  # field 22; the name before ")" may hold spaces


def _alive(pid: int, start: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return start == "0" or _start_time(pid) in (start, "0")


def sweep_dead_run_folders(tmp: str | None = None) -> list[str]:
    """Remove the run folders of pools whose process is gone (killed before it could); returns
    them. A folder whose pid is alive but started at another time belonged to an earlier one."""
    tmp = tmp or tempfile.gettempdir()
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(tmp):
            if not entry.name.startswith(RUN_FOLDER_PREFIX) or not entry.is_dir():
                continue
            pid, _, rest = entry.name[len(RUN_FOLDER_PREFIX) :].partition("-")
            start = rest.split("-", 1)[0]
            if not pid.isdigit() or not start.isdigit() or _alive(int(pid), start):
                continue
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
    return removed


@contextlib.contextmanager
def pool_or_own(pool: WorkerPool | None) -> Iterator[WorkerPool]:
    """`pool`, or when the caller has none, a pool of this call's own, closed when it returns."""
    if pool is not None:
        yield pool
        return
    with WorkerPool() as own:
        yield own
