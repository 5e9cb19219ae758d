"""Protocol errors: a command the worker cannot take ends it, non-zero and at once.

docs/protocol.md: an unknown name is a protocol error. A worker may say so first with
`worker_failed` (`harness_error: true`); it must then exit non-zero, never wait for more
input. Each command here leaves stdin open, so a worker that ignores it would hang.
"""

from __future__ import annotations

import pytest
from wire import Message, Worker

from harness.worker.protocol import PROTOCOL_VERSION

pytestmark = pytest.mark.conformance

ANSWER_S = 10.0  # a refusal is immediate; this only bounds a worker that hangs


def assert_refused(worker: Worker, line: bytes) -> None:
    worker.send_raw(line)
    code = worker.wait(ANSWER_S)
    assert code is not None, f"the worker still runs {ANSWER_S:g} s after {line!r}"
    assert code != 0, f"the worker exited 0 after {line!r}"
    said = []
    while (event := worker.next_event(ANSWER_S)) is not None:
        said.append(event)
    failed = [e for e in said if e["name"] == "worker_failed"]
    assert all(e.get("harness_error") for e in failed), failed
    # the Python worker says segment_started before it reads the rest of a run_segment
    assert {e["name"] for e in said} <= {"segment_started", "worker_failed"}, said


@pytest.mark.parametrize(
    "line",
    [
        b'{"name": "frobnicate"}\n',
        b'{"name": "run_segment", \n',
        b'["run_segment"]\n',
        b"\xff\xfe\n",
        b'{"segment": {}}\n',
    ],
    ids=["unknown-name", "malformed-json", "not-an-object", "not-utf8", "no-name"],
)
def test_a_line_that_is_no_command_ends_the_worker(
    ready: tuple[Worker, Message], line: bytes
) -> None:
    worker, _ = ready
    assert_refused(worker, line)


def test_a_run_segment_without_its_steps_ends_the_worker(ready: tuple[Worker, Message]) -> None:
    worker, _ = ready
    assert_refused(worker, b'{"name": "run_segment", "segment": {"index": 0}}\n')


def test_an_event_sent_as_a_command_ends_the_worker(ready: tuple[Worker, Message]) -> None:
    worker, _ = ready
    worker.send_raw(b'{"name": "step_started", "index": 0, "op": "compile"}\n')
    code = worker.wait(3.0)
    assert code is not None and code != 0, code


def test_the_protocol_version_is_the_coordinator_s(ready: tuple[Worker, Message]) -> None:
    """A coordinator stops a worker of another protocol; this suite speaks this one."""
    _, hello = ready
    assert hello["protocol"] == PROTOCOL_VERSION
