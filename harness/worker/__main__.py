"""Worker entry point: `python -m harness.worker [--memory-mb N] [--family F] [--variant V]`.

Moves the protocol off fd 1, caps its own memory, imports the runtime, says `worker_ready`, then
runs `run_segment` commands until `shutdown` or end of input.

`python -m harness.worker --fork-server --control-fd FD [--family F] [--variant V]` is instead a
warm worker: it imports the runtime once and forks a child per segment that becomes exactly the
worker above (see `harness.worker.forkserver`).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import resource
import signal
import sys
import traceback
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.worker.adapters.base import Adapter
    from harness.worker.protocol import Channel


def _move_protocol_off_stdout() -> int:
    events_fd = os.dup(1)
    os.dup2(2, 1)  # stray prints from the runtime or wasm land on stderr, not in the protocol
    return events_fd


def _cap_memory(megabytes: int) -> None:
    # RLIMIT_DATA, not RLIMIT_AS: runtimes reserve large guard regions of address space up front,
    # and only memory actually made writable should count against the cap.
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


COORDINATOR_ENV = "WASM_COMPAT_COORDINATOR"  # the pid of the process that started this worker
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int) -> None:
    """End this process when `parent` does, however it ends (SIGKILL included): a worker that
    outlives its coordinator would spin under init with nobody to read it or stop it.

    The kernel sends SIGKILL when the thread that created us exits; the coordinator's thread
    that starts a worker waits for it to end, so that is the coordinator's death. A parent that
    died before the signal was armed shows as a parent pid that changed."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # then only the check below, and the coordinator's process-group kill
    if os.getppid() != parent:
        os._exit(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="harness.worker")
    parser.add_argument("--memory-mb", type=int, default=0)
    parser.add_argument("--family", default=None)
    parser.add_argument("--variant", default="", help="e.g. wasmer's engine-compiler")
    parser.add_argument("--fork-server", action="store_true", help="fork a child per segment")
    parser.add_argument("--control-fd", type=int, default=-1, help="the fork server's socket")
    options = parser.parse_args(argv)
    coordinator = os.environ.get(COORDINATOR_ENV, "")
    if not options.fork_server and coordinator.isdigit():
        # Not the fork server: the coordinator's thread that starts it may end before it does;
        # it ends when its control socket closes, killing what it forked.
        die_with_parent(int(coordinator))
    events_fd = _move_protocol_off_stdout()
    if options.fork_server:
        from harness.worker import forkserver

        os.close(events_fd)  # a fork server speaks only on its control socket
        return forkserver.main(
            options.control_fd, options.family, options.variant, serve, _cap_memory, die_with_parent
        )

    from harness.worker.protocol import Channel

    channel = Channel(sys.stdin.buffer, events_fd)
    if options.memory_mb:
        _cap_memory(options.memory_mb)
    from harness.worker.protocol import load_adapter

    adapter = load_adapter(channel.send, options.family, options.variant)
    return 0 if adapter is None else serve(channel, adapter)


def serve(channel: Channel, adapter: Adapter) -> int:
    """Say `worker_ready`, then run segments until `shutdown`: a fresh worker or a forked child."""
    from harness.worker.protocol import PROTOCOL_VERSION
    from harness.worker.segment import Segment, Stopped, run

    channel.send(
        "worker_ready",
        protocol=PROTOCOL_VERSION,
        runtime=adapter.info(),
        python=platform.python_version(),
        pid=os.getpid(),
    )
    while True:
        command = channel.receive()
        if command is None or command["name"] == "shutdown":
            return 0
        if command["name"] != "run_segment":  # an event, or the fork server's own command
            from harness.worker.protocol import ProtocolError

            raise ProtocolError(f"{command['name']!r} is not a command a worker takes")
        seg = command["segment"]
        channel.send("segment_started", index=seg["index"], pid=os.getpid())
        stopped = None
        try:
            segment = Segment(adapter, seg["workdir"], seg["fixtures"])
            completed = run(segment, seg["steps"], channel.send)
        except Stopped as exc:
            completed, stopped = True, str(exc)
        except Exception as exc:  # a bug in the worker itself, not in the runtime
            channel.send(
                "worker_failed",
                reason=f"harness error: {type(exc).__name__}: {exc}",
                detail=traceback.format_exc(),
                harness_error=True,
            )
            return 3
        channel.send("segment_finished", index=seg["index"], completed=completed, stopped=stopped)


if __name__ == "__main__":
    sys.exit(main())
