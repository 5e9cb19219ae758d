"""Which step a segment's end lands on, and what it makes of it: from the events received, how
the process ended and its stderr, without any process."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from harness.execution import events
from harness.execution.attribution import attribute, failure_of, step_in_flight, with_cause
from harness.model.outcome import new_result
from harness.model.process import (
    CUT,
    TAIL_BYTES,
    TAIL_LINES,
    Ending,
    cause_lines,
    exit_description,
    signal_name,
    stderr_tail,
)
from harness.worker.protocol import PROTOCOL_VERSION

TAIL = "Fatal Python error: Segmentation fault"


def step(index: int, op: str = "call", expect: str = "ok") -> dict[str, Any]:
    return {"index": index, "op": op, "args": {}, "expect": {"kind": expect}, "line": index + 3}


STEPS = [step(0, "compile"), step(1, "instantiate"), step(2, "call")]


DETAIL = {"compile": {"wasm_bytes": 8, "compile_s": 0.01}, "instantiate": {"imports": []}}


def ok(s: dict[str, Any]) -> dict[str, Any]:
    """A step's result as the worker sends it: what its op observed, a call's values."""
    values = [] if s["op"] == "call" else None
    detail = DETAIL.get(s["op"], {})
    return {**new_result(s), "outcome": "ok", "values": values, "detail": detail, "met": True}


def ready() -> dict[str, Any]:
    runtime = {"family": "wasmtime", "version": "50.0.1", "variant": "", "adapter": "wasmtime_v28"}
    return {"name": "worker_ready", "protocol": PROTOCOL_VERSION, "runtime": runtime, "pid": 7}


def started(s: dict[str, Any]) -> dict[str, Any]:
    return {"name": "step_started", "index": s["index"], "op": s["op"]}


def finished(result: dict[str, Any]) -> dict[str, Any]:
    return {"name": "step_finished", "result": result}


def segment_finished(completed: bool = True) -> dict[str, Any]:
    return {"name": "segment_finished", "index": 0, "completed": completed}


def received(*messages: dict[str, Any]) -> events.Received:
    state = events.Received()
    for message in messages:
        assert events.receive(state, json.dumps(message).encode())
    assert state.harness_error is None, state.harness_error  # each one as the protocol says
    return state


def ended(returncode: int | None = 0, timed_out: bool = False, tail: str = TAIL) -> Ending:
    return Ending(returncode, timed_out, None, tail, 1.5)


# --- the step in flight


def test_a_step_started_and_not_finished_is_in_flight() -> None:
    state = received(ready(), started(STEPS[0]), finished(ok(STEPS[0])), started(STEPS[1]))
    assert step_in_flight({s["index"]: s for s in STEPS}, state) == 1


def test_before_any_step_started_the_first_without_a_result_is_in_flight() -> None:
    assert step_in_flight({s["index"]: s for s in STEPS}, received(ready())) == 0
    assert step_in_flight({s["index"]: s for s in STEPS}, received()) == 0  # not even ready


def test_after_every_step_finished_nothing_is_in_flight() -> None:
    done = [m for s in STEPS for m in (started(s), finished(ok(s)))]
    assert step_in_flight({s["index"]: s for s in STEPS}, received(ready(), *done)) is None


# --- what the end makes of it


def test_a_signal_is_a_crash_of_the_step_in_flight_with_the_stderr_tail() -> None:
    state = received(ready(), started(STEPS[0]), finished(ok(STEPS[0])), started(STEPS[1]))
    out = attribute(STEPS, state, ended(-11), 60)
    crash = out.results[-1]
    assert [r["index"] for r in out.results] == [0, 1]
    assert (crash["op"], crash["outcome"], crash["signal"]) == ("instantiate", "crash", "SIGSEGV")
    assert crash["message"] == "worker killed by SIGSEGV"
    assert (crash["stderr_tail"], crash["duration_s"]) == (TAIL, 1.5)
    assert (crash["met"], crash["why"]) == (False, "expected ok, got crash (SIGSEGV)")
    assert not out.completed


def test_an_exit_code_is_a_crash_with_that_code() -> None:
    out = attribute(STEPS, received(ready(), started(STEPS[0])), ended(7), 60)
    (crash,) = out.results
    assert (crash["outcome"], crash["exit_code"], crash["signal"]) == ("crash", 7, None)
    assert crash["message"] == "worker exited with 7"


def test_a_deadline_is_a_timeout_that_names_the_limit() -> None:
    state = received(ready(), started(STEPS[0]), finished(ok(STEPS[0])), started(STEPS[1]))
    out = attribute(STEPS, state, ended(-9, timed_out=True), 2.5)
    timeout = out.results[-1]
    assert (timeout["index"], timeout["outcome"], timeout.get("signal")) == (1, "timeout", None)
    assert timeout["message"] == "no result within 2.5 s; process group killed"


def test_a_death_after_every_step_is_a_teardown_pseudo_step() -> None:
    done = [m for s in STEPS for m in (started(s), finished(ok(s)))]
    out = attribute(STEPS, received(ready(), *done, segment_finished()), ended(-6), 60)
    teardown = out.results[-1]
    assert (teardown["index"], teardown["op"], teardown["line"]) == (-1, "teardown", None)
    assert (teardown["outcome"], teardown["signal"], teardown["met"]) == ("crash", "SIGABRT", False)
    assert len(out.results) == 4 and not out.completed


def test_an_expected_crash_completes_the_segment_only_on_its_last_step() -> None:
    steps = [step(0, "compile"), step(1, "call", expect="crash"), step(2, "close")]
    middle = attribute(steps, received(ready(), started(steps[1])), ended(-11), 60)
    assert middle.results[-1]["met"] is True and not middle.completed
    last = attribute(steps[:2], received(ready(), started(steps[1])), ended(-11), 60)
    assert last.results[-1]["met"] is True and last.completed


def test_a_clean_exit_is_no_failure() -> None:
    assert failure_of(0, False, 60) is None and failure_of(None, False, 60) is None


def test_a_clean_exit_keeps_the_results_and_a_failed_step_gets_the_tail() -> None:
    failed = {
        **ok(STEPS[0]),
        **{"outcome": "error", "error_kind": "runtime", "error_type": "WasmtimeError"},
        **{"message": "invalid", "met": False, "why": "expected ok, got error"},
    }
    state = received(ready(), started(STEPS[0]), finished(failed), segment_finished(False))
    out = attribute(STEPS, state, ended(0), 60)
    assert out.results == [{**failed, "stderr_tail": TAIL}] and not out.completed
    assert state.results == [failed]  # what was received is left as it was
    passed = [m for s in STEPS for m in (started(s), finished(ok(s)))]
    clean = attribute(STEPS, received(ready(), *passed, segment_finished()), ended(0), 60)
    assert clean.completed and all("stderr_tail" not in r for r in clean.results)


def test_a_protocol_error_is_a_harness_error_on_the_step_in_flight() -> None:
    state = received(ready(), started(STEPS[0]))
    assert events.receive(state, b"not json at all")
    out = attribute(STEPS, state, ended(0), 60)
    error = out.results[-1]
    assert (error["index"], error["outcome"], error["error_kind"]) == (0, "error", "harness")
    assert error["message"].startswith("protocol error: not a JSON message")


# --- events


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"name": "fork_segment", "id": 1}, "fork_segment: not an event of the segment stream"),
        ({"name": "step_started", "index": 0}, "step_started: 'op' is a required property"),
        ({"name": "no_such_event"}, "unknown message"),
    ],
)
def test_a_message_that_is_no_segment_event_is_a_protocol_error(
    message: dict[str, Any], error: str
) -> None:
    state = received(ready())
    assert events.receive(state, json.dumps(message).encode())
    assert state.harness_error is not None and error in state.harness_error


def test_a_worker_of_another_protocol_is_not_read_further() -> None:
    state = events.Received()
    assert not events.receive(state, json.dumps({**ready(), "protocol": 1}).encode())
    speaks = f"worker speaks protocol 1, this wasm-compat speaks {PROTOCOL_VERSION}"
    assert state.unavailable == speaks
    assert state.runtime is None


def test_a_worker_that_failed_is_unavailable_or_a_harness_error() -> None:
    missing = {"name": "worker_failed", "reason": "RuntimeUnavailable: wasmtime is not installed"}
    assert received(missing).unavailable == missing["reason"]
    bug = {
        "name": "worker_failed",
        "reason": "harness error",
        "detail": "Trace",
        "harness_error": True,
    }
    state = events.Received()
    assert events.receive(state, json.dumps(bug).encode())
    assert state.harness_error == "harness error\nTrace" and state.unavailable is None


def test_every_event_of_a_segment_has_its_handler() -> None:
    from harness.execution.messages import message_names

    assert set(events.HANDLERS) == set(message_names("segment", "event"))


# --- what the process left


def test_signal_names() -> None:
    assert signal_name(11) == "SIGSEGV" and signal_name(99) == "signal 99"
    assert exit_description(-9) == "killed by SIGKILL"
    assert exit_description(3) == "exited with 3"


PANIC = "thread '<unnamed>' panicked at 'assertion failed: res.eax == 0', /x/src/lib.rs:1:2"
FRAMES = [f'  File "/w/harness/worker/frame{i}.py", line {i} in f{i}' for i in range(30)]


def tail_of(text: str | bytes) -> str:
    return stderr_tail(io.BytesIO(text if isinstance(text, bytes) else text.encode()))


def test_the_tail_is_the_last_lines() -> None:
    assert tail_of("") == ""
    assert tail_of("\n".join(FRAMES)) == "\n".join(FRAMES[-TAIL_LINES:])
    flood = tail_of(("<b>flood</b>\x1b[31m" * 50 + "\n") * 10_000)
    assert len(flood) <= TAIL_BYTES and CUT not in flood


def test_the_tail_keeps_the_cause_a_fault_handler_pushed_out_of_it() -> None:
    stderr = "\n".join([PANIC, "note: run with `RUST_BACKTRACE=1`", "Fatal Python error: Aborted"])
    tail = tail_of(stderr + "\n" + "\n".join(FRAMES))
    assert tail.splitlines() == [PANIC, CUT, *FRAMES[-TAIL_LINES:]]
    assert tail_of(stderr) == stderr  # in the last lines already: kept once, as it came


def test_a_new_panic_keeps_its_message_line_and_other_causes_count_too() -> None:
    panic = "thread 'main' panicked at /r/cranelift-codegen-0.110.1/src/isa/x64/mod.rs:12:5:"
    stderr = [panic, "unsupported CPU", "Inconsistency detected by ld.so: dl-version.c: 204"]
    tail = tail_of("\n".join([*stderr, *FRAMES]))
    assert tail.splitlines()[:4] == [*stderr, CUT]
    assert cause_lines("no cause here\n" + "\n".join(FRAMES)) == []


def test_cause_lines_above_the_tail_are_cut_to_their_share() -> None:
    tail = tail_of("fatal runtime error: " + "x" * 5000 + "\n" + "\n".join(FRAMES))
    first, cut, *rest = tail.splitlines()
    assert first.startswith("fatal runtime error: xxx") and len(first) <= 1001
    assert cut == CUT and rest == FRAMES[-TAIL_LINES:]


GO_PANIC_STDERR = (
    "panic: runtime error: invalid memory address or nil pointer dereference\n"
    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x5a1b2c]\n\n"
    "goroutine 1 [running]:\n"
    + "".join(
        f"github.com/tetratelabs/wazero/internal/wasm.f{i}(0x1a41384daf70?)\n"
        f"\tgithub.com/tetratelabs/wazero@v1.8.2/internal/wasm/module_instance.go:{i}\n"
        for i in range(40)
    )
)


def test_a_go_panic_is_kept_above_its_goroutine_dump_and_named_in_the_crash() -> None:
    tail = stderr_tail(io.BytesIO(GO_PANIC_STDERR.encode()))
    assert tail.startswith("panic: runtime error: invalid memory address or nil pointer")
    assert "[signal SIGSEGV" in tail.splitlines()[1]
    failure = failure_of(2, False, 60)
    assert failure is not None
    message = with_cause(failure, tail)["message"]
    assert message == (
        "worker exited with 2: panic: runtime error: invalid memory address or nil pointer "
        "dereference"
    )
    assert with_cause(failure, "some other output")["message"] == "worker exited with 2"
