"""Closes marked `always` (protocol 3): an application's deferred cleanup, which runs whatever
failed before it, and closes only what exists."""

from __future__ import annotations

import pytest
from conftest import STEP_S
from steps import call, close, compile_, expect, instantiate
from wire import Message, Worker, by_index, run_checked

pytestmark = pytest.mark.conformance

EVERYTHING: list[list[str | None]] = [["instance", "i"], ["module", "m"], ["engine", None]]


def run(worker: Worker, steps: list[Message], fixtures: dict[str, str]) -> list[Message]:
    return run_checked(worker, steps, fixtures, STEP_S)


def started(events: list[Message]) -> list[int]:
    return [e["index"] for e in events if e["name"] == "step_started"]


def test_an_always_close_runs_after_a_missed_expectation(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    worker, _ = ready
    steps = [
        compile_(0, "traps"),
        instantiate(1),
        call(2, "unreachable"),  # expected ok: missed
        call(3, "div_by_zero"),
        close(4, EVERYTHING, always=True),
    ]
    events = run(worker, steps, fixtures)
    got = by_index(events)
    assert sorted(got) == [0, 1, 2, 4], "the steps between are neither run nor reported"
    assert started(events) == [0, 1, 2, 4]
    assert got[2]["met"] is False
    assert got[4]["outcome"] == "ok" and got[4]["met"] is True
    closed = got[4]["detail"]["closed"]
    assert [c.split(":")[0] for c in closed] == ["instance i", "module m", "engine"], closed
    assert events[-1]["completed"] is False


def test_an_always_close_lists_what_a_failed_step_never_made_as_absent(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    worker, _ = ready
    steps = [
        compile_(0, "imports"),
        instantiate(1),  # its imports are not given: an error, and no instance
        close(2, EVERYTHING, always=True),
    ]
    events = run(worker, steps, fixtures)
    got = by_index(events)
    assert got[1]["outcome"] == "error" and got[1]["met"] is False
    closed = got[2]["detail"]["closed"]
    assert closed[0] == "instance i: absent", closed
    assert closed[1].startswith("module m: ") and "absent" not in closed[1], closed


def test_an_always_close_runs_after_an_observation_stopped_the_segment(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    worker, _ = ready
    steps = [
        compile_(0, "traps"),
        instantiate(1),
        call(2, "unreachable", expected=expect("any")),
        call(3, "div_by_zero"),
        close(4, EVERYTHING),
        close(5, EVERYTHING, always=True),
    ]
    events = run(worker, steps, fixtures)
    got = by_index(events)
    assert [got[i]["outcome"] for i in (3, 4)] == ["not_run", "not_run"]
    assert got[5]["outcome"] == "ok" and got[5]["met"] is True
    assert started(events) == [0, 1, 2, 5]
    assert events[-1]["completed"] is True and events[-1]["stopped"]
