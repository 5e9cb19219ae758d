"""A call that passes a store (protocol 5): call args' `store`, null for the instance's own or
another store of the segment, as an application that mixes up its stores passes it.

A runtime whose calls take a store gets the other one as given: wasmtime (0.28+) checks it and
aborts the process, which leaves the call in flight. One whose calls take no store (wazero,
wasmer-python; LACKS `store_per_call`) reports it `unsupported`.
"""

from __future__ import annotations

import pytest
from conftest import STEP_S
from steps import call, compile_, expect, instantiate, value
from test_wire_failures import events_until_exit
from wire import Message, Worker, by_index, run_checked

pytestmark = pytest.mark.conformance


def two_stores() -> list[Message]:
    return [compile_(0, "add"), instantiate(1, store="s"), instantiate(2, as_="j", store="s2")]


def test_a_call_with_its_own_store_by_name_is_a_call(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    worker, _ = ready
    steps = [*two_stores(), call(3, "add", [value(1), value(2)], results=[value(3)], store="s")]
    got = by_index(run_checked(worker, steps, fixtures, STEP_S))
    assert got[3]["values"] == [{"type": "i32", "value": 3}] and got[3]["met"], got[3]


def test_a_store_the_segment_lacks_is_the_scenarios_error(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    worker, _ = ready
    steps = [*two_stores(), call(3, "add", [value(1), value(2)], store="t", expected=expect("any"))]
    failed = by_index(run_checked(worker, steps, fixtures, STEP_S))[3]
    assert (failed["outcome"], failed["error_kind"]) == ("error", "scenario"), failed
    assert failed["message"] == "store 't' was not created in this segment (its step failed?)"


def test_a_call_with_another_store(
    ready: tuple[Worker, Message], fixtures: dict[str, str], lacks: frozenset[str]
) -> None:
    worker, _ = ready
    lacking = "store_per_call" in lacks
    other = call(
        3,
        "add",
        [value(1), value(2)],
        store="s2",
        expected=expect("unsupported", "no store") if lacking else expect("any"),
    )
    events = events_until_exit(worker, [*two_stores(), other], fixtures)
    finished = by_index(events)
    if lacking:
        assert finished[3]["outcome"] == "unsupported" and finished[3]["met"], finished[3]
        return
    if 3 in finished:  # a runtime that checks the store and says so is an error, never a value
        assert finished[3]["outcome"] == "error", finished[3]
        return
    assert events[-1] == {"name": "step_started", "index": 3, "op": "call"}, events[-1]
    assert worker.wait(STEP_S) != 0, worker.stderr_tail()
