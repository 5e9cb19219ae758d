"""The coordinator-worker protocol: one JSON message a line, documented in docs/protocol.md.

Commands (coordinator -> worker, on the worker's stdin) are imperative; events (worker ->
coordinator, on the worker's protocol fd) are past tense. An unknown name is a protocol error.
A fork server (`python -m harness.worker --fork-server`) speaks the same kind of messages, one
per packet, on its control socket: `fork_segment` and `shutdown` in, `server_ready`,
`segment_forked`, `fork_refused`, `segment_exited` and `worker_failed` out.
"""

from __future__ import annotations

import json
import os
from typing import Any, BinaryIO, Callable

# 2: the fork server's control messages; 3: `always` closes; 4: host functions a scenario declares;
# 5: engine settings by name (`settings`); 6: a compile's `corrupt_cache`
PROTOCOL_VERSION = 6

COMMANDS = ("run_segment", "shutdown", "fork_segment")
EVENTS = (
    "worker_ready",
    "segment_started",
    "step_started",
    "step_finished",
    "segment_finished",
    "worker_failed",
    "server_ready",
    "segment_forked",
    "fork_refused",
    "segment_exited",
)

Message = dict[str, Any]


class ProtocolError(Exception):
    pass


def encode(name: str, **payload: Any) -> bytes:
    if name not in COMMANDS and name not in EVENTS:
        raise ProtocolError(f"unknown message {name!r}")
    return (json.dumps({"name": name, **payload}, allow_nan=False) + "\n").encode("utf-8")


def decode(line: bytes) -> Message:
    try:
        message = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"not a JSON message: {line[:200]!r} ({exc})") from None
    if not isinstance(message, dict) or message.get("name") not in COMMANDS + EVENTS:
        raise ProtocolError(f"unknown message: {line[:200]!r}")
    return message


class Channel:
    """The worker's end: reads commands, writes events on a private fd.

    The worker moves the protocol off fd 1 before the runtime loads, so anything a runtime or a
    wasm program prints to stdout cannot corrupt the stream.
    """

    def __init__(self, commands: BinaryIO, events_fd: int) -> None:
        self._commands = commands
        self._events_fd = events_fd

    def send(self, name: str, **payload: Any) -> None:
        data = encode(name, **payload)
        while data:
            written = os.write(self._events_fd, data)
            data = data[written:]

    def receive(self) -> Message | None:
        line = self._commands.readline()
        if not line:
            return None
        return decode(line)


def load_adapter(send: Callable[..., Any], family: Any, variant: str) -> Any:
    """The runtime's adapter, or None after sending `worker_failed`: a runtime that cannot be
    imported or used here is a fact about this env, which the coordinator reports."""
    import traceback

    try:
        from harness.worker.adapters import detect

        return detect(family, variant)
    except Exception as exc:
        send(
            "worker_failed",
            reason=f"{type(exc).__name__}: {exc}",
            detail=traceback.format_exc(limit=3),
        )
        return None
