"""A warm worker: one fork server per runtime, asked for a forked child per segment.

A fork server (`harness.worker.forkserver`) is started with the runtime env's interpreter and
imports the runtime once; each segment's process is then a fork of it instead of a fresh
interpreter, which removes the interpreter's start-up and the runtime's import from every
segment without weakening isolation (the child is in its own session, with its own work dir,
environment, stderr and memory cap, and ends with its segment).

The servers belong to a `WorkerPool` (`harness.execution.pool`), which starts them on first use
and closes them when the command that opened it ends. Several threads may ask one server for
forks at once: requests carry an id, one lock orders the writes, and one reader thread per
server hands each reply to the request that it answers.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.execution.messages import check_event
from harness.model.process import exit_description, stderr_tail
from harness.model.runtime import WorkerCommand
from harness.worker.protocol import PROTOCOL_VERSION, ProtocolError, decode, encode

START_TIMEOUT_S = 120.0
REPLY_TIMEOUT_S = 30.0
PACKET = 1 << 20

EnvFor = Callable[[Path], dict[str, str]]


class ServerUnavailable(Exception):
    """This server cannot fork (any more); the message says why, for the run's record."""


@dataclass
class _Request:
    id: int
    forked: threading.Event = field(default_factory=threading.Event)
    exited: threading.Event = field(default_factory=threading.Event)
    pid: int | None = None
    refused: str | None = None
    returncode: int | None = None
    lost: str | None = None  # the server died before it said how the child ended


class ForkedChild:
    """A segment's process forked by a server: the part of `subprocess.Popen` execute uses."""

    def __init__(self, request: _Request) -> None:
        self._request = request
        assert request.pid is not None
        self.pid: int = request.pid

    @property
    def returncode(self) -> int | None:
        return self._request.returncode

    @property
    def lost(self) -> str | None:
        return self._request.lost

    def wait(self, timeout: float | None = None) -> int | None:
        if not self._request.exited.wait(timeout):
            raise subprocess.TimeoutExpired(f"segment process {self.pid}", timeout or 0)
        return self._request.returncode


class ForkServer:
    def __init__(self, worker: WorkerCommand, env_for: EnvFor, parent: str | None = None) -> None:
        self.worker = worker
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[int, _Request] = {}
        self._dead: str | None = None
        self._home = tempfile.mkdtemp(prefix="wasm-compat-forkserver-", dir=parent)
        self._stderr = tempfile.TemporaryFile(prefix="wasm-compat-forkserver-stderr-")  # noqa: SIM115 - read when it dies
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = worker.with_options("--fork-server", "--control-fd", str(theirs.fileno()))
        try:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                cwd=self._home,
                env=env_for(Path(self._home)),
                start_new_session=True,  # Ctrl-C reaches the coordinator only; it closes us
                pass_fds=(theirs.fileno(),),
            )
        except OSError:
            self._cleanup()
            raise
        finally:
            theirs.close()
        self.ready: dict[str, Any] = {}
        self._reader: threading.Thread | None = None

    # -- start ---------------------------------------------------------------------------
    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        """Wait for `server_ready`; ServerUnavailable if it failed, died or cannot fork."""
        self._sock.settimeout(timeout)
        try:
            data = self._sock.recv(PACKET)
        except TimeoutError:
            self.close()
            raise ServerUnavailable(f"fork server not ready within {timeout:g} s") from None
        finally:
            self._sock.settimeout(None)
        if not data:
            reason = f"fork server {self._died()}"
            self.close()
            raise ServerUnavailable(reason)
        try:
            message = _received(data)
        except ProtocolError as exc:
            self.close()
            raise ServerUnavailable(f"fork server answered {data[:200]!r}: {exc}") from None
        if message["name"] == "worker_failed":
            self.close()
            raise ServerUnavailable(f"the fork server cannot load the runtime: {message['reason']}")
        if message["name"] != "server_ready" or message.get("protocol") != PROTOCOL_VERSION:
            self.close()
            raise ServerUnavailable(f"fork server answered {data[:200]!r}")
        if message.get("unsafe"):
            self.close()
            raise ServerUnavailable(f"fork is unsafe: {message['unsafe']}")
        self.ready = message
        self._reader = threading.Thread(
            target=self._read, name=f"wasm-compat-forkserver-{self._proc.pid}", daemon=True
        )
        self._reader.start()

    # -- forks ---------------------------------------------------------------------------
    def fork(
        self, cwd: Path, env: dict[str, str], memory_mb: int, protocol_fd: int, stderr_fd: int
    ) -> ForkedChild:
        request = _Request(next(self._ids))
        packet = encode("fork_segment", id=request.id, cwd=str(cwd), env=env, memory_mb=memory_mb)
        with self._lock:
            if self._dead is not None:
                raise ServerUnavailable(self._dead)
            self._pending[request.id] = request
            try:
                socket.send_fds(self._sock, [packet], [protocol_fd, stderr_fd])
            except OSError as exc:
                self._pending.pop(request.id, None)
                raise ServerUnavailable(f"fork server unreachable: {exc}") from None
        if not request.forked.wait(REPLY_TIMEOUT_S):
            with self._lock:
                self._pending.pop(request.id, None)
            raise ServerUnavailable(f"fork server did not answer within {REPLY_TIMEOUT_S:g} s")
        if request.refused is not None:
            raise ServerUnavailable(request.refused)
        return ForkedChild(request)

    def _read(self) -> None:
        """The reader thread: hand every reply to its request; on EOF fail what is pending."""
        try:
            while True:
                data = self._sock.recv(PACKET)
                if not data:
                    break
                message = _received(data)
                with self._lock:
                    request = self._pending.get(message.get("id", -1))
                    if request is None:
                        continue
                    name = message["name"]
                    if name == "segment_forked":
                        request.pid = message["pid"]
                        request.forked.set()
                    elif name == "fork_refused":
                        request.refused = f"fork refused: {message['reason']}"
                        self._dead = request.refused  # it will refuse again: spawn from now on
                        del self._pending[request.id]
                        request.forked.set()
                    elif name == "segment_exited":
                        request.returncode = message["returncode"]
                        del self._pending[request.id]
                        request.exited.set()
        except (OSError, ProtocolError) as exc:
            reason = f"fork server channel failed: {exc}"
        else:
            reason = f"fork server {self._died()}"
        with self._lock:
            self._dead = self._dead or reason
            for request in self._pending.values():
                request.refused = request.refused or reason
                request.lost = reason
                request.forked.set()
                request.exited.set()
            self._pending.clear()

    def _died(self) -> str:
        try:
            code = self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "closed its control socket"
        lines = stderr_tail(self._stderr).strip().splitlines()
        return exit_description(code) + (f": {lines[-1]}" if lines else "")

    # -- end -----------------------------------------------------------------------------
    def close(self) -> None:
        """Ask the server to exit (it kills any child still running), then make sure it did."""
        with self._lock:
            self._dead = self._dead or "fork server closed"
            with contextlib.suppress(OSError):
                self._sock.send(encode("shutdown"))
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=5)
        self._cleanup()

    def _cleanup(self) -> None:
        self._sock.close()
        self._stderr.close()
        shutil.rmtree(self._home, ignore_errors=True)


def _received(packet: bytes) -> dict[str, Any]:
    """A control message from the server, checked against its schema (ProtocolError if not)."""
    message = decode(packet)
    check_event(message, "control")
    return message
