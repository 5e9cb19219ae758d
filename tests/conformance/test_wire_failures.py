"""A worker that dies or hangs: the step in flight must be the last thing it said.

The coordinator pins a crash or a timeout on the last step_started without its step_finished,
so a worker must send (and flush) step_started before the step runs.
"""

from __future__ import annotations

import signal
import time

import pytest
from conftest import STEP_S, Spawn
from steps import call, compile_, deserialize, expect, instantiate, serialize, value
from wire import Message, Silent, Worker, check_pairing

pytestmark = pytest.mark.conformance

HANG_S = 1.0  # silence after step_started that counts as a hang here


def events_until_exit(
    worker: Worker, steps: list[Message], fixtures: dict[str, str]
) -> list[Message]:
    events = worker.run_segment(0, steps, fixtures, STEP_S)
    check_pairing(events)
    return events


def assert_pinned_on(events: list[Message], step: Message) -> None:
    last = events[-1]
    assert (last["name"], last.get("index"), last.get("op")) == (
        "step_started",
        step["index"],
        step["op"],
    ), f"last event: {last}"
    assert not any(e["name"] == "segment_finished" for e in events)


def test_a_host_function_that_exits_leaves_its_step_in_flight(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    worker, _ = ready
    fatal = call(2, "call_exit", [value(7)], expected=expect("crash", "exit 7"))
    steps = [compile_(0, "exit_import"), instantiate(1, imports=("host",)), fatal]
    events = events_until_exit(worker, steps, fixtures)
    assert_pinned_on(events, fatal)
    assert worker.wait(STEP_S) == 7


def test_a_segfault_leaves_its_step_in_flight(
    spawn: Spawn, fixtures: dict[str, str], lacks: frozenset[str]
) -> None:
    """The first byte of an artifact's machine code flipped (deserialize_code_flip_crash)."""
    if {"serialize", "deserialize"} & lacks:
        pytest.skip("the runtime has no artifacts to corrupt")
    producer = spawn()
    producer.handshake(STEP_S)
    made = events_until_exit(producer, [compile_(0, "add"), serialize(1, "add.cwasm")], fixtures)
    assert made[-1]["name"] == "segment_finished" and made[-1]["completed"], made

    consumer = spawn()
    consumer.handshake(STEP_S)
    flipped = deserialize(3, "add.cwasm", corrupt={"flip": [0], "in": "code"})
    fatal = call(5, "add", [value(1), value(2)], expected=expect("crash"))
    events = events_until_exit(consumer, [flipped, instantiate(4), fatal], fixtures)
    finished = [e["result"] for e in events if e["name"] == "step_finished"]
    if finished and finished[0]["outcome"] == "unsupported":
        pytest.skip(f"the artifact has no machine code to flip: {finished[0]['message']}")
    if events[-1]["name"] == "segment_finished":
        pytest.skip("the runtime survived its flipped code byte (a runtime's behaviour)")
    assert_pinned_on(events, fatal)
    code = consumer.wait(STEP_S)
    assert code is not None and code != 0, code
    if code < 0:
        assert signal.Signals(-code).name in ("SIGSEGV", "SIGBUS", "SIGILL", "SIGTRAP", "SIGABRT")


def test_a_hang_leaves_its_step_in_flight_until_killed(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    worker, _ = ready
    spin = call(2, "spin", expected=expect("timeout"))
    steps = [compile_(0, "loop"), instantiate(1), spin]
    worker.start_segment(0, steps, fixtures)
    events = []
    while not events or events[-1]["name"] != "step_started" or events[-1]["index"] != 2:
        event = worker.next_event(STEP_S)
        assert event is not None, f"the worker ended before the spin: {worker.stderr_tail()}"
        events.append(event)
    started = time.monotonic()
    with pytest.raises(Silent):
        worker.next_event(HANG_S)
    assert worker.proc.poll() is None, "a hanging worker must not exit on its own"
    check_pairing(events)
    assert_pinned_on(events, spin)
    assert worker.kill() == -signal.SIGKILL
    assert time.monotonic() - started < HANG_S + 5
