"""The worker processes a command uses, owned by that command:

    with WorkerPool() as pool:
        run_case(..., pool)

A pool holds one warm fork server per runtime worker (started on first use) and the folder that
puts the worker on a runtime env's path. Closing it (the end of the `with`, however it ends)
shuts every server down, each killing what it forked, and removes the folder; nothing of it is
global and nothing waits for `atexit`. Segments' own processes are not the pool's: each ends
with its segment (`harness.execution.transport`).

Where forking is unsafe or impossible (the server cannot start, dies, finds threads after the
import, the worker is not a Python one, or `WASM_COMPAT_ISOLATION=spawn`), `server_for` says
why, and the segment runs in a fresh process; the run records which isolation each segment had.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import harness
from harness.errors import HarnessError
from harness.execution.forkserver import ForkServer, ServerUnavailable
from harness.model.runtime import WorkerCommand

ISOLATION_ENV = "WASM_COMPAT_ISOLATION"
FORK, SPAWN = "fork", "spawn"


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
        self._folder: str | None = None
        self._closed = False

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def pythonpath(self) -> str:
        """A folder holding only the `harness` package, for the worker's PYTHONPATH.

        Putting the harness's own site-packages on a runtime env's path would leak 3.11
        packages into a 3.9 interpreter; a folder with one symlink exposes exactly our
        stdlib-only code."""
        with self._lock:
            self._check_open()
            if self._folder is None:
                folder = tempfile.mkdtemp(prefix="wasm-compat-worker-")
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
            server = ForkServer(worker, self.segment_env)
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
            folder, self._folder = self._folder, None
        try:
            for server in servers:
                server.close()
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the worker pool is used after it was closed")


@contextlib.contextmanager
def pool_or_own(pool: WorkerPool | None) -> Iterator[WorkerPool]:
    """`pool`, or when the caller has none, a pool of this call's own, closed when it returns."""
    if pool is not None:
        yield pool
        return
    with WorkerPool() as own:
        yield own
