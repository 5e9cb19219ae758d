"""A warm worker: imports the runtime once, then forks one child per segment.

    python -m harness.worker --fork-server --control-fd FD [--family F] [--variant V]

The server imports the runtime's adapter and creates nothing of the runtime (no engine, store or
module), so each child starts from the state a fresh worker has right after its import. On
`fork_segment` it forks a child that becomes that fresh worker: a new session, the segment's
work dir and environment, its own stderr file (stdout pointed at it too), the memory cap, and
the segment protocol on a socket the coordinator passed along (`harness.worker.__main__.serve`).

Control messages are one per packet on an AF_UNIX SOCK_SEQPACKET socket, with the child's two
fds (protocol socket, stderr file) attached to `fork_segment` as SCM_RIGHTS. The coordinator
cannot wait for a grandchild, so the server reaps its children (SIGCHLD through a wakeup fd)
and reports each exit status as `segment_exited`. Before every fork it checks that it is still
single-threaded; if not, it refuses (`fork_refused`) and the coordinator falls back to fresh
interpreters. When the control socket closes (the coordinator ended, however it ended) the
server kills what it forked and exits.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import platform
import select
import signal
import socket
import sys
import traceback
from typing import TYPE_CHECKING, Any, Callable, NoReturn

from harness.worker.protocol import (
    PROTOCOL_VERSION,
    ProtocolError,
    decode,
    encode,
    load_adapter,
)

if TYPE_CHECKING:
    from harness.worker.adapters.base import Adapter
    from harness.worker.protocol import Channel

PACKET = 1 << 20
FDS_PER_FORK = 2  # the child's protocol socket, its stderr file
# What a segment creates; none of it may exist in the server when it forks.
RUNTIME_TYPES = ("Engine", "Store", "Module", "Instance", "Linker", "Universal", "Dylib", "JIT")
RUNTIME_ROOTS = ("wasmtime", "wasmer")

Serve = Callable[["Channel", "Adapter"], int]


class Control:
    """The server's end of the control socket: one message per packet."""

    def __init__(self, fd: int) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, fileno=fd)

    def send(self, name: str, **payload: Any) -> None:
        self.sock.send(encode(name, **payload))

    def receive(self) -> tuple[dict[str, Any] | None, list[int]]:
        data, fds, _, _ = socket.recv_fds(self.sock, PACKET, FDS_PER_FORK)
        if not data:
            for fd in fds:
                os.close(fd)
            return None, []
        return decode(data), fds


def main(
    control_fd: int,
    family: str | None,
    variant: str,
    serve: Serve,
    cap: Callable[[int], None],
    die_with_parent: Callable[[int], None] = lambda parent: None,
) -> int:
    control = Control(control_fd)
    adapter = load_adapter(control.send, family, variant)
    if adapter is None:
        return 0
    import harness.worker.segment  # noqa: F401 - imported once here, not in every child

    unsafe = created_objects() or threads_reason()
    control.send(
        "server_ready",
        protocol=PROTOCOL_VERSION,
        runtime=adapter.info(),
        python=platform.python_version(),
        pid=os.getpid(),
        unsafe=unsafe,
    )
    return Server(control, adapter, serve, cap, unsafe, die_with_parent).loop()


class Server:
    def __init__(
        self,
        control: Control,
        adapter: Adapter,
        serve: Serve,
        cap: Callable[[int], None],
        unsafe: str | None,
        die_with_parent: Callable[[int], None] = lambda parent: None,
    ) -> None:
        self.control = control
        self.die_with_parent = die_with_parent
        self.pid = os.getpid()
        self.adapter = adapter
        self.serve = serve
        self.cap = cap
        self.unsafe = unsafe
        self.children: dict[int, Any] = {}  # pid -> request id (None: the spare)
        self.spare: tuple[int, socket.socket] | None = None
        self.wake_r, self.wake_w = os.pipe()

    def loop(self) -> int:
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)
        signal.signal(signal.SIGCHLD, _ignore)
        signal.set_wakeup_fd(self.wake_w)
        gc.freeze()  # the children share these pages: keep their collector off them
        try:
            self.prefork()
            while True:
                readable, _, _ = select.select([self.control.sock.fileno(), self.wake_r], [], [])
                if self.wake_r in readable:
                    _drain(self.wake_r)
                self.reap()
                if self.control.sock.fileno() in readable:
                    message, fds = self.control.receive()
                    try:
                        if message is None or message["name"] == "shutdown":
                            return 0
                        if message["name"] != "fork_segment":
                            raise ProtocolError(f"a fork server cannot {message['name']!r}")
                        self.fork(message, fds)
                    finally:
                        for fd in fds:
                            os.close(fd)
        except (BrokenPipeError, ConnectionResetError):  # the coordinator is gone
            return 0
        finally:
            self.kill_children()

    def fork(self, message: dict[str, Any], fds: list[int]) -> None:
        """Hand the request to the spare child (forked ahead), then fork the next spare."""
        request = message["id"]
        reason = self.unsafe or threads_reason()
        if reason is None and len(fds) != FDS_PER_FORK:
            reason = f"fork_segment carried {len(fds)} fds, not {FDS_PER_FORK}"
        if reason is not None:
            self.control.send("fork_refused", id=request, reason=reason)
            return
        for _attempt in range(2):  # a spare that died waiting is replaced once
            if self.spare is None:
                self.prefork()
            assert self.spare is not None
            pid, sock = self.spare
            self.spare = None
            try:
                forwarded = {k: v for k, v in message.items() if k != "name"}
                socket.send_fds(sock, [encode("fork_segment", **forwarded)], fds)
            except OSError:
                continue
            finally:
                sock.close()
            while fds:  # before the next fork: a spare holding them would keep them open
                os.close(fds.pop())
            self.children[pid] = request
            self.control.send("segment_forked", id=request, pid=pid)
            self.prefork()  # while this segment runs
            return
        self.control.send("fork_refused", id=request, reason="forked children die at once")

    def prefork(self) -> None:
        """Fork a spare child that waits for its segment: the fork leaves the critical path."""
        if self.unsafe or threads_reason() is not None:
            return  # the next request is refused with the reason
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # or the child would write our buffered text again
        pid = os.fork()
        if pid == 0:
            ours.close()
            self.child(theirs)
        theirs.close()
        self.spare = (pid, ours)
        self.children[pid] = None

    def child(self, assignment: socket.socket) -> NoReturn:
        """Wait for a segment, become a fresh worker for it; never return into the server."""
        code = 1
        try:
            os.setsid()
            self.die_with_parent(self.pid)  # a server killed outright cannot kill its children
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            self.control.sock.close()
            os.close(self.wake_r)
            os.close(self.wake_w)
            data, fds, _, _ = socket.recv_fds(assignment, PACKET, FDS_PER_FORK)
            assignment.close()
            if not data:  # the server ended before it needed this spare
                os._exit(0)
            message = decode(data)
            protocol_fd, stderr_fd = fds
            os.dup2(stderr_fd, 2)
            os.dup2(2, 1)  # stray prints land in this segment's stderr, not in the protocol
            os.close(stderr_fd)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.close(null)
            os.chdir(message["cwd"])
            _set_environ(message["env"])
            if message.get("memory_mb"):
                self.cap(int(message["memory_mb"]))
            from harness.worker.protocol import Channel

            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, fileno=protocol_fd)
            code = self.serve(Channel(sock.makefile("rb"), protocol_fd), self.adapter)
        except SystemExit as exc:
            code = _exit_code(exc)
        except KeyboardInterrupt:  # SIGINT from the coordinator's timeout: end as Python would
            traceback.print_exc()
            _finish()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            _finish()
            os._exit(code)

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            request = self.children.pop(pid, None)
            if self.spare is not None and self.spare[0] == pid:
                self.spare[1].close()
                self.spare = None
            if request is not None:
                code = os.waitstatus_to_exitcode(status)
                self.control.send("segment_exited", id=request, pid=pid, returncode=code)

    def kill_children(self) -> None:
        for pid in list(self.children):
            for kill in (os.killpg, os.kill):
                with contextlib.suppress(OSError):
                    kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self.children.clear()


def threads_reason() -> str | None:
    """Why forking now is unsafe: another thread would not exist in the child, its locks would."""
    try:
        count = len(os.listdir("/proc/self/task"))
    except OSError as exc:
        return f"cannot count this process's threads: {exc}"
    if count != 1:
        return f"{count} threads after importing the runtime; fork copies only one"
    return None


def created_objects() -> str | None:
    """Why the server is not a clean start: runtime objects it made (it must make none)."""
    found = sorted(
        {
            f"{type(o).__module__}.{type(o).__name__}"
            for o in gc.get_objects()
            if type(o).__name__ in RUNTIME_TYPES
            and type(o).__module__.split(".")[0] in RUNTIME_ROOTS
        }
    )
    return f"runtime objects exist before fork: {', '.join(found)}" if found else None


def _set_environ(env: dict[str, str]) -> None:
    """The segment's environment, changing only what differs (putenv is not free)."""
    for key in [k for k in os.environ if k not in env]:
        del os.environ[key]
    for key, value in env.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


def _ignore(signum: int, frame: Any) -> None:
    pass  # SIGCHLD only needs to wake the select loop, through the wakeup fd


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _finish() -> None:
    """What an interpreter does on its way out that os._exit skips: collect, atexit, flush."""
    try:
        gc.collect()
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    except BaseException:
        pass
