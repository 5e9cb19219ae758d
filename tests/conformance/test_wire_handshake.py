"""The handshake and the end of a worker: worker_ready first, shutdown or end of input exits 0."""

from __future__ import annotations

import pytest
from conftest import READY_S, Spawn
from wire import Message, Worker

from harness.worker.protocol import PROTOCOL_VERSION

pytestmark = pytest.mark.conformance

EXIT_S = 10.0


def test_worker_ready_comes_first_with_the_protocol_version_and_the_runtime(
    ready: tuple[Worker, Message],
) -> None:
    _, hello = ready
    assert hello["protocol"] == PROTOCOL_VERSION
    runtime = hello["runtime"]
    assert runtime["family"] and runtime["version"] and runtime["adapter"]
    assert hello["pid"] > 0


def test_shutdown_exits_0_without_another_event(ready: tuple[Worker, Message]) -> None:
    worker, _ = ready
    worker.send({"name": "shutdown"})
    assert worker.wait(EXIT_S) == 0, worker.stderr_tail()
    assert worker.next_event(EXIT_S) is None


def test_the_end_of_input_is_a_shutdown(ready: tuple[Worker, Message]) -> None:
    worker, _ = ready
    worker.close_stdin()
    assert worker.wait(EXIT_S) == 0, worker.stderr_tail()
    assert worker.next_event(EXIT_S) is None


def test_a_segment_without_steps_starts_and_finishes(ready: tuple[Worker, Message]) -> None:
    """What the coordinator sends to probe a runtime: no steps at all."""
    worker, _ = ready
    events = worker.run_segment(0, [], {}, READY_S)
    assert [e["name"] for e in events] == ["segment_started", "segment_finished"]
    assert events[0]["index"] == 0 and events[1]["index"] == 0
    assert events[1]["completed"] is True


def test_each_worker_is_its_own_process(spawn: Spawn) -> None:
    first, second = spawn(), spawn()
    assert first.handshake(READY_S)["pid"] != second.handshake(READY_S)["pid"]
