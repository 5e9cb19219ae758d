"""The conformance suite's end of the wire: a worker process spoken to in raw JSON lines.

Nothing here goes through the coordinator (`harness.execution`): commands are written to the
worker's stdin as the protocol defines them, events are read from its stdout, and every line
is held to the framing rules and to the schemas in `harness/schema/protocol/`.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from harness.execution.messages import check_command, check_event
from harness.worker.protocol import PROTOCOL_VERSION, ProtocolError

Message = dict[str, Any]


class Silent(Exception):
    """The worker sent nothing within the limit."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (the protocol writes non-finite floats as strings)")


def parse_event(line: bytes) -> Message:
    """One line of a worker's stream, held to the framing rules and to the schemas."""
    try:
        message = json.loads(line.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise AssertionError(f"not a JSON line: {line[:200]!r} ({exc})") from None
    if not isinstance(message, dict):
        raise AssertionError(f"not a JSON object: {line[:200]!r}")
    try:
        check_event(message)
    except ProtocolError as exc:
        raise AssertionError(f"event refused by the schemas: {exc}") from None
    return message


class Worker:
    """One worker process in its own session, its stderr in a file."""

    def __init__(self, command: list[str], workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.stderr_path = workdir / f"worker-{time.monotonic_ns()}.stderr"
        self.events: list[Message] = []
        self._buffer = b""
        self._eof = False
        with open(self.stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                cwd=workdir,
                env=env,
                start_new_session=True,  # so the whole group can be killed, as the coordinator does
            )
        assert self.proc.stdout is not None
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.proc.stdout, selectors.EVENT_READ)

    # -- commands --------------------------------------------------------------------------
    def send(self, message: Message) -> None:
        """A command, which must itself be valid: the suite speaks the protocol it checks."""
        check_command(message)
        self.send_raw(json.dumps(message, allow_nan=False).encode("utf-8") + b"\n")

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.close()

    # -- events ----------------------------------------------------------------------------
    def next_event(self, timeout: float) -> Message | None:
        """The next event, None at the end of the stream; Silent if none came in time."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            if self._eof:
                assert self._buffer == b"", f"stream ended inside a line: {self._buffer[:200]!r}"
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._selector.select(remaining):
                raise Silent(f"no event within {timeout:g} s")
            assert self.proc.stdout is not None
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if chunk:
                self._buffer += chunk
            else:
                self._eof = True
        line, self._buffer = self._buffer.split(b"\n", 1)
        message = parse_event(line)
        self.events.append(message)
        return message

    def handshake(self, timeout: float) -> Message:
        first = self.next_event(timeout)
        assert first is not None, f"the worker said nothing and exited: {self.stderr_tail()}"
        assert first["name"] == "worker_ready", f"first event: {first}"
        return first

    def read_segment(self, timeout: float) -> list[Message]:
        """Events up to and including segment_finished, or up to the end of the stream."""
        events: list[Message] = []
        deadline = time.monotonic() + timeout
        while True:
            event = self.next_event(max(0.0, deadline - time.monotonic()))
            if event is None:
                return events
            events.append(event)
            if event["name"] in ("segment_finished", "worker_failed"):
                return events

    def start_segment(self, index: int, steps: list[Message], fixtures: dict[str, str]) -> None:
        self.send(
            {
                "name": "run_segment",
                "segment": {
                    "index": index,
                    "workdir": str(self.workdir),
                    "fixtures": fixtures,
                    "steps": steps,
                    "protocol": PROTOCOL_VERSION,
                },
            }
        )

    def run_segment(
        self, index: int, steps: list[Message], fixtures: dict[str, str], timeout: float
    ) -> list[Message]:
        self.start_segment(index, steps, fixtures)
        return self.read_segment(timeout)

    # -- the process -----------------------------------------------------------------------
    def wait(self, timeout: float) -> int | None:
        """The exit status (negative: the signal), or None if it is still running."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> int:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.wait()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        else:  # what it started may still run in its group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self._selector.close()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def stderr_tail(self, lines: int = 20) -> str:
        text = self.stderr_path.read_bytes()[-4000:].decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])


def results(events: list[Message]) -> list[Message]:
    return [e["result"] for e in events if e["name"] == "step_finished"]


def by_index(events: list[Message]) -> dict[int, Message]:
    return {r["index"]: r for r in results(events)}


def run_checked(
    worker: Worker, steps: list[Message], fixtures: dict[str, str], timeout: float, index: int = 0
) -> list[Message]:
    """One segment's events, held to the framing every segment keeps: segment_started first,
    segment_finished last, each step announced before it finished."""
    events = worker.run_segment(index, steps, fixtures, timeout)
    assert events, f"no event for the segment: {worker.stderr_tail()}"
    assert events[0] == {"name": "segment_started", "index": index, "pid": events[0]["pid"]}
    assert events[-1]["name"] == "segment_finished", f"{events[-1]}\n{worker.stderr_tail()}"
    assert events[-1]["index"] == index
    check_pairing(events)
    return events


def check_pairing(events: list[Message]) -> None:
    """Each step that ran is announced before it runs: step_started(index, op), then its
    step_finished; a not_run result (after an observation stopped the segment) comes alone."""
    pending: Message | None = None
    for event in events:
        if event["name"] == "step_started":
            assert pending is None, f"step_started while step {pending} is in flight"
            pending = event
        elif event["name"] == "step_finished":
            result = event["result"]
            if result["outcome"] == "not_run":
                assert pending is None, f"a not_run result while step {pending} is in flight"
                continue
            assert pending is not None, f"step_finished without step_started: {result}"
            assert (result["index"], result["op"]) == (pending["index"], pending["op"])
            pending = None
