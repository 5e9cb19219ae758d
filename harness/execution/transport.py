"""A segment's worker process, as lines of bytes: start it, hand it its commands, read its event
lines until they end or the deadline passes, then end it and its whole process group.

The process is a fork of the runtime's warm worker (the pool's fork server), or a fresh one
where that is unsafe or turned off; `isolation` says which, and why. It runs in its own session
with its own stderr file. Whatever it does, nothing it started outlives `close`: past the
deadline its group is interrupted, terminated, then killed, and at the end (on Ctrl-C or a bug
here too) the group is killed in any case. The pool knows it while it runs, to kill it on
SIGTERM; and whether the coordinator signalled it is kept, so that an ending by SIGKILL or
SIGTERM nobody here sent is told apart (`Ending.killed_from_outside`).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from harness.execution.forkserver import ForkedChild, ForkServer, ServerUnavailable
from harness.execution.pool import FORK, SPAWN, WorkerPool
from harness.model.process import Ending, killed_from_outside, stderr_tail
from harness.model.runtime import WorkerCommand

ESCALATION = ((signal.SIGINT, 0.5), (signal.SIGTERM, 0.5), (signal.SIGKILL, 5.0))
EXIT_WAIT_S = 30.0  # after its events end, how long the process has to exit
CHUNK = 65536

Process = subprocess.Popen[bytes] | ForkedChild
Handle = Callable[[bytes], bool]  # one event line; False: stop reading


class SegmentProcess:
    """One segment's process and its event stream; `start` makes one. Use it with `with`."""

    def __init__(
        self,
        proc: Process,
        events: Any,
        stderr: IO[bytes],
        started: float,
        isolation: str,
        isolation_reason: str | None,
        pool: WorkerPool | None = None,
    ) -> None:
        self.proc, self.events, self.stderr = proc, events, stderr
        self.pool = pool
        self.signalled = False  # the coordinator sent its group a signal before it ended
        self.started = started
        self.isolation, self.isolation_reason = isolation, isolation_reason
        self.timed_out = False
        self.ending: Ending | None = None

    def read(self, timeout: float, handle: Handle) -> None:
        """Hand each non-empty event line to `handle` until the stream ends, `handle` says
        stop, or `timeout` seconds from the start have passed (then `timed_out`)."""
        buffer = b""
        selector = selectors.DefaultSelector()
        selector.register(self.events, selectors.EVENT_READ)
        try:
            while True:
                remaining = self.started + timeout - time.monotonic()
                if remaining <= 0:
                    self.timed_out = True
                    return
                if not selector.select(remaining):
                    continue
                try:
                    chunk = os.read(self.events.fileno(), CHUNK)
                except ConnectionResetError:
                    chunk = b""
                if not chunk:
                    return
                *lines, buffer = (buffer + chunk).split(b"\n")
                for line in lines:
                    if line.strip() and not handle(line):
                        return
        finally:
            selector.close()

    def __enter__(self) -> SegmentProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is not None:  # Ctrl-C or a bug here: the segment's process must not outlive us
            self._kill_group(signal.SIGKILL)
        self.ending = self.close()

    def close(self) -> Ending:
        """End the process (escalating if it is past its deadline) and everything it started."""
        try:
            if self.timed_out:
                self._escalate()
            try:
                self.proc.wait(timeout=EXIT_WAIT_S)
            except subprocess.TimeoutExpired:
                self._kill_group(signal.SIGKILL)
                self.proc.wait()
            outside = killed_from_outside(self.proc.returncode, self.signalled)
            self._kill_group(signal.SIGKILL)  # nothing the segment started outlives it
        finally:
            if self.pool is not None:
                self.pool.untrack(self.proc.pid)
        self.events.close()
        lost = self.proc.lost if isinstance(self.proc, ForkedChild) else None
        duration = round(time.monotonic() - self.started, 6)
        try:
            tail = stderr_tail(self.stderr)
        finally:
            self.stderr.close()
        return Ending(self.proc.returncode, self.timed_out, lost, tail, duration, outside)

    def stop(self) -> None:
        """The coordinator will not read on: end the process now rather than wait for it."""
        self._kill_group(signal.SIGKILL)

    def _escalate(self) -> None:
        for sig, grace in ESCALATION:
            self._kill_group(sig)
            try:
                self.proc.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue

    def _kill_group(self, sig: int) -> None:
        self.signalled = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)


def start(
    worker: WorkerCommand, workdir: Path, memory_mb: int, commands: bytes, pool: WorkerPool
) -> SegmentProcess:
    """Start a segment's process with `commands` waiting on its input: forked from the pool's
    server for this worker, or a fresh one when there is none (and why not)."""
    stderr = tempfile.TemporaryFile(prefix="wasm-compat-stderr-")  # noqa: SIM115 - read at the end
    started = time.monotonic()  # the deadline counts the server's start too
    try:
        env = pool.segment_env(workdir)
        server, reason = pool.server_for(worker)
        if server is not None:
            forked = _fork(server, workdir, env, memory_mb, commands, stderr, started)
            if isinstance(forked, SegmentProcess):
                forked.pool = pool
                pool.track(forked.proc.pid)
                return forked
            reason = forked
            pool.forget(worker, reason)
        proc = _spawn(worker, workdir, env, stderr, memory_mb)
    except BaseException:
        stderr.close()
        raise
    pool.track(proc.pid)
    assert proc.stdin is not None and proc.stdout is not None
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.write(commands)
        proc.stdin.close()
    return SegmentProcess(proc, proc.stdout, stderr, started, SPAWN, reason, pool)


def _fork(
    server: ForkServer,
    workdir: Path,
    env: dict[str, str],
    memory_mb: int,
    commands: bytes,
    stderr: IO[bytes],
    started: float,
) -> SegmentProcess | str:
    """A child forked by the server with the commands on its protocol socket, or why not."""
    ours, theirs = socket.socketpair()
    ours.setblocking(False)  # the commands wait in the socket for the child: no round trip
    rest = commands
    with contextlib.suppress(BlockingIOError):
        rest = commands[ours.send(commands) :]
    ours.setblocking(True)
    try:
        child = server.fork(workdir, env, memory_mb, theirs.fileno(), stderr.fileno())
    except ServerUnavailable as exc:
        ours.close()
        return str(exc)
    finally:
        theirs.close()
    with contextlib.suppress(OSError):
        ours.sendall(rest)
        ours.shutdown(socket.SHUT_WR)
    return SegmentProcess(child, ours, stderr, started, FORK, None)


def _spawn(
    worker: WorkerCommand, workdir: Path, env: dict[str, str], stderr: IO[bytes], memory_mb: int
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        worker.with_options("--memory-mb", str(memory_mb)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        cwd=workdir,
        env=env,
        start_new_session=True,
    )
