"""Every step op over the wire, the values it carries, and a restart into a new process."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from conftest import READY_S, STEP_S, Spawn
from steps import call, close, compile_, deserialize, expect, instantiate, serialize, value
from wire import Message, Worker, by_index, run_checked

pytestmark = pytest.mark.conformance


def run(
    worker: Worker, steps: list[Message], fixtures: dict[str, str], index: int = 0
) -> list[Message]:
    return run_checked(worker, steps, fixtures, STEP_S, index)


def test_compile_instantiate_call_close(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    worker, _ = ready
    steps = [
        compile_(0, "add"),
        instantiate(1),
        call(2, "add", [value(1), value(2, "i32")], results=[value(3)]),
        close(3, [["instance", "i"], ["store", "s"], ["module", "m"], ["engine", None]]),
    ]
    events = run(worker, steps, fixtures)
    assert events[-1]["completed"] is True
    got = by_index(events)
    assert [got[i]["op"] for i in range(4)] == ["compile", "instantiate", "call", "close"]
    for index, result in got.items():
        assert result["outcome"] == "ok", result
        assert result["met"] is True and result["why"] is None
        assert result["line"] == steps[index]["line"] and result["expect"] == steps[index]["expect"]
        assert result["duration_s"] >= 0
    assert got[0]["detail"]["wasm_bytes"] == Path(fixtures["add"]).stat().st_size
    assert got[1]["detail"]["imports"] == []
    assert got[2]["values"] == [{"type": "i32", "value": 3}]
    assert len(got[3]["detail"]["closed"]) >= 3


def test_values_keep_their_type_and_precision(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    """Integers exact to 64 bits (no float in between), f32 results widened to double as the
    runtime returns them, non-finite floats as strings, several results, none."""
    worker, _ = ready
    big = 2**53 + 1  # not a float64: a worker that parses numbers as doubles changes it
    tenth_f32 = struct.unpack("<f", struct.pack("<f", 0.1))[0]
    calls = [
        ("i32_id", [value(-(2**31), "i32")], [{"type": "i32", "value": -(2**31)}]),
        ("i64_id", [value(big)], [{"type": "i64", "value": big}]),
        ("i64_id", [value(-(2**63), "i64")], [{"type": "i64", "value": -(2**63)}]),
        ("f32_id", [value(0.1)], [{"type": "f32", "value": tenth_f32}]),
        ("f64_id", [value(0.1, "f64")], [{"type": "f64", "value": 0.1}]),
        ("f64_id", [value("-inf")], [{"type": "f64", "value": "-inf"}]),
        ("f64_id", [value("inf", "f64")], [{"type": "f64", "value": "inf"}]),
        ("f32_nan", [], [{"type": "f32", "value": "nan"}]),
        ("f64_neg_inf", [], [{"type": "f64", "value": "-inf"}]),
        ("pair", [], [{"type": "i32", "value": -1}, {"type": "i64", "value": 2**63 - 1}]),
        ("nothing", [], []),
    ]
    steps = [compile_(0, "values"), instantiate(1)]
    steps += [call(2 + n, export, args) for n, (export, args, _) in enumerate(calls)]
    events = run(worker, steps, fixtures)
    got = by_index(events)
    for n, (export, _, wanted) in enumerate(calls):
        assert got[2 + n]["outcome"] == "ok", got[2 + n]
        assert got[2 + n]["values"] == wanted, export


def test_a_stated_result_is_checked_by_the_worker(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    """A call that returns other values than its `results` misses its expectation: the rest
    of the segment is neither run nor reported."""
    worker, _ = ready
    steps = [
        compile_(0, "add"),
        instantiate(1),
        call(2, "add", [value(2), value(2)], results=[value(5)]),
        call(3, "add", [value(1), value(1)]),
    ]
    events = run(worker, steps, fixtures)
    got = by_index(events)
    assert got[2]["outcome"] == "ok" and got[2]["values"] == [{"type": "i32", "value": 4}]
    assert got[2]["met"] is False and got[2]["why"]
    assert 3 not in got and events[-1]["completed"] is False


def test_the_host_library(ready: tuple[Worker, Message], fixtures: dict[str, str]) -> None:
    """The fixed host functions of module `host` (harness/worker/hostlib.py), as every worker
    must provide them: values round-trip, `record` logs its argument, `trap` traps."""
    worker, _ = ready
    steps = [
        compile_(0, "imports"),
        instantiate(1, imports=("host",)),
        call(2, "checksum", results=[value(4121302867893096928, "i64")]),
        call(3, "call_record", [value(42)]),
        call(4, "call_trap", expected=expect("trap", "host")),
    ]
    events = run(worker, steps, fixtures)
    got = by_index(events)
    assert got[1]["detail"]["imports"] == ["host"]
    assert got[2]["values"] == [{"type": "i64", "value": 4121302867893096928}]
    assert got[3]["values"] == [] and got[3]["detail"]["host_calls"] == [42]
    trapped = got[4]
    assert (trapped["outcome"], trapped["error_kind"], trapped["trap_code"]) == (
        "error",
        "trap",
        "host",
    )
    assert trapped["met"] is True and events[-1]["completed"] is True


def test_a_trap_is_an_error_with_its_code(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    worker, _ = ready
    steps = [
        compile_(0, "traps"),
        instantiate(1),
        call(2, "div_by_zero", expected=expect("trap", "integer_division_by_zero")),
        call(3, "unreachable", expected=expect("trap", "unreachable")),
    ]
    events = run(worker, steps, fixtures)
    got = by_index(events)
    for index, code in ((2, "integer_division_by_zero"), (3, "unreachable")):
        result = got[index]
        assert result["outcome"] == "error" and result["error_kind"] == "trap", result
        assert result["trap_code"] == code and result["met"] is True
        assert result["values"] is None and result["error_type"] and result["message"]
    assert events[-1]["completed"] is True


def test_an_observation_that_ends_other_than_ok_stops_the_segment(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    """`expect: any` meets any outcome; one other than ok stops the run: the steps after it
    are reported not_run (without step_started) and segment_finished says why."""
    worker, _ = ready
    steps = [
        compile_(0, "traps"),
        instantiate(1),
        call(2, "unreachable", expected=expect("any")),
        call(3, "div_by_zero"),
        close(4, [["instance", "i"]]),
    ]
    events = run(worker, steps, fixtures)
    got = by_index(events)
    assert got[2]["outcome"] == "error" and got[2]["met"] is True
    for index in (3, 4):
        assert got[index]["outcome"] == "not_run" and got[index]["met"] is True
        assert got[index]["why"] and got[index]["duration_s"] is None
    assert not any(e["name"] == "step_started" and e["index"] >= 3 for e in events)
    assert events[-1]["completed"] is True and events[-1]["stopped"]


def test_a_missed_expectation_ends_the_segment(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    worker, _ = ready
    steps = [compile_(0, "traps"), instantiate(1), call(2, "unreachable"), close(3, [])]
    events = run(worker, steps, fixtures)
    got = by_index(events)
    assert got[2]["outcome"] == "error" and got[2]["met"] is False and got[2]["why"]
    assert sorted(got) == [0, 1, 2]
    assert events[-1]["completed"] is False and not events[-1].get("stopped")


def test_a_missing_work_file_is_the_scenario_s_error(
    ready: tuple[Worker, Message], fixtures: dict[str, str], lacks: frozenset[str]
) -> None:
    if "deserialize" in lacks:
        pytest.skip("the runtime cannot deserialize")
    worker, _ = ready
    events = run(worker, [deserialize(0, "missing.cwasm", expected=expect("error"))], fixtures)
    result = by_index(events)[0]
    assert (result["outcome"], result["error_kind"], result["met"]) == ("error", "scenario", True)


def test_a_restart_is_a_new_process_that_shares_only_the_work_dir(
    spawn: Spawn, workdir: Path, fixtures: dict[str, str], lacks: frozenset[str]
) -> None:
    missing = {"serialize", "deserialize"} & lacks
    if missing:
        pytest.skip(f"the runtime cannot {' or '.join(sorted(missing))}")
    producer = spawn()
    first = producer.handshake(READY_S)
    made = run(producer, [compile_(0, "add"), serialize(1, "artifacts/add.cwasm")], fixtures)
    artifact = workdir / "artifacts" / "add.cwasm"
    assert artifact.is_file() and artifact.stat().st_size == by_index(made)[1]["detail"]["bytes"]
    assert len(by_index(made)[1]["detail"]["sha256"]) == 16
    producer.send({"name": "shutdown"})
    assert producer.wait(STEP_S) == 0

    consumer = spawn()
    second = consumer.handshake(READY_S)
    assert second["pid"] != first["pid"]
    via_file = "deserialize_file" not in lacks
    steps = [
        deserialize(3, "artifacts/add.cwasm", via="file" if via_file else "bytes"),
        instantiate(4),
        call(5, "add", [value(2), value(3)]),
    ]
    events = run(consumer, steps, fixtures, index=1)
    got = by_index(events)
    assert got[3]["detail"]["bytes"] == artifact.stat().st_size
    assert got[5]["values"] == [{"type": "i32", "value": 5}]
    assert events[-1]["completed"] is True and events[0]["pid"] != first["pid"]


# A step the runtime cannot express, per capability it lacks (conftest.LACKS).
PROBES = {
    "serialize": [compile_(0, "add"), serialize(1, "add.cwasm", expected=expect("unsupported"))],
    "deserialize": [deserialize(1, "add", fixture=True, expected=expect("unsupported"))],
    "deserialize_file": [
        deserialize(1, "add", via="file", fixture=True, expected=expect("unsupported"))
    ],
    "fuel": [compile_(1, "add", engine={"fuel": 1000}, expected=expect("unsupported"))],
    "cache": [
        compile_(1, "add", engine={"cache": {"directory": "c"}}, expected=expect("unsupported"))
    ],
    "llvm": [compile_(1, "add", engine={"compiler": "llvm"}, expected=expect("unsupported"))],
}


def test_what_the_runtime_cannot_express_is_unsupported(
    ready: tuple[Worker, Message], fixtures: dict[str, str], lacks: frozenset[str]
) -> None:
    """Not an error and not a crash: `unsupported` with a reason, and the segment goes on."""
    probes = [name for name in PROBES if name in lacks]
    if not probes:
        pytest.skip("the runtime lacks nothing the suite knows how to ask for")
    worker, _ = ready
    steps = [*PROBES[probes[0]], compile_(7, "add", as_="n"), instantiate(8, module="n")]
    events = run(worker, steps, fixtures)
    got = by_index(events)
    probe = got[steps[len(PROBES[probes[0]]) - 1]["index"]]
    assert probe["outcome"] == "unsupported", probe
    assert probe["error_kind"] is None and probe["message"] and probe["met"] is True
    assert got[8]["outcome"] == "ok" and events[-1]["completed"] is True


def test_stdout_of_the_runtime_cannot_corrupt_the_stream(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    """A host function writes a megabyte of hostile bytes to fd 1: the events stay intact."""
    worker, _ = ready
    steps = [
        compile_(0, "misbehaving_host"),
        instantiate(1, imports=("host",)),
        call(2, "call_flood", [value(1)]),
    ]
    events = run(worker, steps, fixtures)
    assert by_index(events)[2]["outcome"] == "ok" and events[-1]["completed"] is True
