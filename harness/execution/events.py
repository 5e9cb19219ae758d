"""What a segment's events say, one handler per event (docs/protocol.md).

`receive` decodes one line, checks it against the protocol's schema and hands it to its
event's handler; a message that is not JSON, breaks its schema or is no event of a segment is a
protocol error, which (only our worker writes here) makes the segment a harness error. The
handlers only record: what the runtime is, which step is in flight, the steps' results, how
the segment finished. Nothing here touches a process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.execution.messages import check_event
from harness.model.step import StepResultJson
from harness.worker.protocol import PROTOCOL_VERSION, Message, ProtocolError, decode


@dataclass
class Received:
    """A segment's events so far."""

    results: list[StepResultJson] = field(default_factory=list)
    runtime: dict[str, Any] | None = None
    python: str | None = None
    unavailable: str | None = None  # the runtime cannot be imported or used in this env
    harness_error: str | None = None  # the worker itself failed: a bug in wasm-compat
    in_flight: int | None = None  # the index of a step started and not finished
    completed: bool = False
    stopped: str | None = None  # an observation ended other than ok; later segments do not run


Handler = Callable[[Received, Message], bool]  # False: read no further


def receive(received: Received, line: bytes) -> bool:
    """Take one event line into `received`; False when the rest of the stream is not wanted."""
    try:
        message = decode(line)
        check_event(message)
    except ProtocolError as exc:  # only our worker writes here: a harness bug
        received.harness_error = f"protocol error: {exc}"
        return True
    handler = HANDLERS.get(message["name"])
    if handler is None:
        received.harness_error = f"protocol error: {message['name']!r} is no event of a segment"
        return True
    return handler(received, message)


def worker_ready(received: Received, message: Message) -> bool:
    if message.get("protocol") != PROTOCOL_VERSION:  # a worker we cannot talk to is stopped
        received.unavailable = (
            f"worker speaks protocol {message.get('protocol')}, "
            f"this wasm-compat speaks {PROTOCOL_VERSION}"
        )
        return False
    received.runtime, received.python = message["runtime"], message.get("python")
    return True


def worker_failed(received: Received, message: Message) -> bool:
    if message.get("harness_error"):
        received.harness_error = f"{message['reason']}\n{message.get('detail', '')}"
    else:
        received.unavailable = message["reason"]
    return True


def segment_started(received: Received, message: Message) -> bool:
    return True  # nothing to record: which steps ran is told step by step


def step_started(received: Received, message: Message) -> bool:
    received.in_flight = message["index"]
    return True


def step_finished(received: Received, message: Message) -> bool:
    received.results.append(message["result"])
    received.in_flight = None
    return True


def segment_finished(received: Received, message: Message) -> bool:
    received.completed = bool(message["completed"])
    received.stopped = message.get("stopped")
    return True


HANDLERS: dict[str, Handler] = {
    "worker_ready": worker_ready,
    "worker_failed": worker_failed,
    "segment_started": segment_started,
    "step_started": step_started,
    "step_finished": step_finished,
    "segment_finished": segment_finished,
}
