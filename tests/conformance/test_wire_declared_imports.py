"""Host functions a scenario declares (protocol 4): `instantiate` args `functions`, each
import's signature and behaviour (harness/worker/declared.py, wazero/declared.go), as every
worker must implement them, messages included.

The module `declared_imports` (tests/conformance/wat/) imports one `env` function per behaviour
and the library's `host.record`.
"""

from __future__ import annotations

import json
import signal
import time
from typing import Any

import pytest
from conftest import STEP_S
from steps import call, compile_, expect, instantiate, value
from test_wire_failures import HANG_S, assert_pinned_on, events_until_exit
from wire import Message, Silent, Worker, by_index, check_pairing, run_checked

from harness.execution.messages import check_command
from harness.worker.protocol import PROTOCOL_VERSION, ProtocolError

pytestmark = pytest.mark.conformance

FIXTURE = "declared_imports"
IMPORTS = ("host", "env")


def fn(params: list[str], results: list[str], **does: Any) -> dict[str, Any]:
    return {"params": params, "results": results, "does": does}


def env(**changes: Any) -> dict[str, Any]:
    """The declarations of module `env`, with some replaced (None: left out)."""
    declared = {
        "answer": fn([], ["i32"], kind="return", value=42),
        "big": fn([], ["i64"], kind="return", value={"type": "i64", "value": 2**64 - 1}),
        "tenth": fn([], ["f32"], kind="return", value=0.1),
        "second": fn(["i32", "i64"], ["i64"], kind="arg", index=1),
        "sum_i32": fn(["i32", "i32", "i32"], ["i32"], kind="add"),
        "sum_f64": fn(["f64", "f64"], ["f64"], kind="add"),
        "log": fn(["i32", "f32", "i64", "f64"], ["f64"], kind="record"),
        "fail": fn(["i32"], [], kind="trap"),
        "quit": fn(["i32"], [], kind="exit", code=None),
        "quit_3": fn([], [], kind="exit", code=3),
        "stuck": fn([], [], kind="hang"),
    }
    declared.update(changes)
    return {name: spec for name, spec in declared.items() if spec is not None}


def linked(index: int, declared: dict[str, Any] | None = None, **kwargs: Any) -> Message:
    functions = {"env": env()} if declared is None else declared
    return instantiate(index, imports=kwargs.pop("imports", IMPORTS), functions=functions, **kwargs)


def test_each_behaviour_that_returns(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    """return (a number, a typed value, an f32), arg, add (wrapped), record (zeros, logged
    between the library's own records), trap (code `host`, naming the import)."""
    worker, _ = ready
    steps = [
        compile_(0, FIXTURE),
        linked(1),
        call(2, "answer", results=[value(42, "i32")]),
        call(3, "big", results=[value(-1, "i64")]),
        call(4, "tenth"),
        call(5, "second", [value(7), value(2**62)], results=[value(2**62, "i64")]),
        call(6, "sum_i32", [value(2**31 - 1), value(1), value(5)]),
        call(7, "sum_f64", [value(0.1), value(0.2)]),
        call(8, "log_both", [value(41)]),
        call(9, "fail", expected=expect("trap", "host")),
    ]
    got = by_index(run_checked(worker, steps, fixtures, STEP_S))
    assert got[1]["detail"]["imports"] == ["host", "env"]
    assert got[4]["values"] == [{"type": "f32", "value": 0.10000000149011612}]
    assert got[6]["values"] == [{"type": "i32", "value": -(2**31) + 5}]
    assert got[7]["values"] == [{"type": "f64", "value": 0.30000000000000004}]
    assert got[8]["values"] == [{"type": "f64", "value": 0.0}]
    logged = {
        "function": "env.log",
        "args": [
            {"type": "i32", "value": 41},
            {"type": "f32", "value": 0.10000000149011612},
            {"type": "i64", "value": 2**40},
            {"type": "f64", "value": "-inf"},
        ],
    }
    assert got[8]["detail"]["host_calls"] == [41, logged, 42]
    assert "host_calls" not in got[2]["detail"]
    trapped = got[9]
    assert (trapped["outcome"], trapped["error_kind"], trapped["trap_code"]) == (
        "error",
        "trap",
        "host",
    )
    assert "host function 'env.fail' was called" in trapped["message"]
    assert all(r["met"] for r in got.values()), got


@pytest.mark.parametrize(
    ("export", "args", "code"), [("quit", [value(263)], 7), ("quit_3", [], 3)], ids=["arg", "code"]
)
def test_exit_ends_the_process_with_its_code_pinned_on_the_call(
    ready: tuple[Worker, Message],
    fixtures: dict[str, str],
    export: str,
    args: list[Message],
    code: int,
) -> None:
    """`code: null` exits with the low byte of param 0, as the library's `exit` does."""
    worker, _ = ready
    fatal = call(2, export, args, expected=expect("crash", f"exit {code}"))
    events = events_until_exit(worker, [compile_(0, FIXTURE), linked(1), fatal], fixtures)
    assert_pinned_on(events, fatal)
    assert worker.wait(STEP_S) == code


def test_hang_leaves_its_call_in_flight_until_killed(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    worker, _ = ready
    stuck = call(2, "stuck", expected=expect("timeout"))
    worker.start_segment(0, [compile_(0, FIXTURE), linked(1), stuck], fixtures)
    events: list[Message] = []
    while not events or events[-1]["name"] != "step_started" or events[-1]["index"] != 2:
        event = worker.next_event(STEP_S)
        assert event is not None, f"the worker ended before the call: {worker.stderr_tail()}"
        events.append(event)
    started = time.monotonic()
    with pytest.raises(Silent):
        worker.next_event(HANG_S)
    assert worker.proc.poll() is None, "a hanging host function must not return"
    check_pairing(events)
    assert_pinned_on(events, stuck)
    assert worker.kill() == -signal.SIGKILL
    assert time.monotonic() - started < HANG_S + 5


def test_a_missing_import_is_the_runtime_s_instantiate_error(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    worker, _ = ready
    steps = [compile_(0, FIXTURE), linked(1, {"env": env(stuck=None)}, expected=expect("error"))]
    failed = by_index(run_checked(worker, steps, fixtures, STEP_S))[1]
    assert (failed["outcome"], failed["error_kind"]) == ("error", "runtime"), failed
    assert "stuck" in failed["message"] and failed["met"] is True


INCONSISTENT = [
    (
        {"env": env(second=fn(["i32", "i64"], ["i64"], kind="arg", index=2))},
        IMPORTS,
        "import env.second: arg index 2 is out of range: it declares 2 param(s)",
    ),
    (
        {"env": env(second=fn(["i32", "i64"], ["i64"], kind="arg", index=0))},
        IMPORTS,
        "import env.second: arg 0 is i32, the result is i64",
    ),
    (
        {"env": env()},
        ("host", "env", "other"),
        "imports name module 'other', which functions does not declare",
    ),
    (
        {"env": env(), "extra": {"f": fn([], [], kind="trap")}},
        IMPORTS,
        "functions declares module 'extra', which this step does not import",
    ),
    (
        {"env": env(), "wasi_snapshot_preview1": {"fd_write": fn([], [], kind="trap")}},
        ("host", "env", "wasi", "wasi_snapshot_preview1"),
        "module 'wasi_snapshot_preview1' is WASI's, which this segment imports too",
    ),
]


@pytest.mark.parametrize(
    ("functions", "imports", "message"),
    INCONSISTENT,
    ids=["arg-range", "arg-type", "undeclared", "not-imported", "wasi"],
)
def test_an_inconsistent_declaration_is_the_scenario_s_error(
    ready: tuple[Worker, Message],
    fixtures: dict[str, str],
    functions: dict[str, Any],
    imports: tuple[str, ...],
    message: str,
) -> None:
    """What the schema cannot say, each worker checks, with the same message."""
    worker, _ = ready
    bad = linked(1, functions, imports=imports, expected=expect("error"))
    failed = by_index(run_checked(worker, [compile_(0, FIXTURE), bad], fixtures, STEP_S))[1]
    assert (failed["outcome"], failed["error_kind"]) == ("error", "scenario"), failed
    assert (failed["error_type"], failed["message"]) == ("ScenarioStateError", message)


def test_a_module_keeps_its_first_declaration_in_a_segment(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    """The same declaration again links; another one for the module is the scenario's error
    (wazero links a module name once per runtime, and every worker does as it must)."""
    worker, _ = ready
    other = env(answer=fn([], ["i32"], kind="return", value=43))
    steps = [
        compile_(0, FIXTURE),
        linked(1),
        linked(2, as_="j"),
        call(3, "answer", instance="j", results=[value(42, "i32")]),
        linked(4, {"env": other}, as_="k", expected=expect("error")),
    ]
    got = by_index(run_checked(worker, steps, fixtures, STEP_S))
    assert got[3]["met"] is True and got[4]["error_kind"] == "scenario", got[4]
    assert got[4]["message"] == (
        "import env.answer is declared otherwise than by an earlier instantiate of this segment"
    )


BEYOND_THE_SCHEMA = [
    (
        env(answer=fn([], ["i32", "i32"], kind="return", value=1)),
        "import env.answer: return needs exactly one result, it declares 2",
    ),
    (
        env(sum_f64=fn(["f64", "f32"], ["f64"], kind="add")),
        "import env.sum_f64: add needs every param of the result's type f64, param 1 is f32",
    ),
    (
        env(answer=fn([], ["i32"], kind="return", value=2**32)),
        "import env.answer: return value does not fit i32",
    ),
    (
        env(answer=fn([], ["i32"], kind="return", value={"type": "i64", "value": 1})),
        "import env.answer: return value is typed i64, the result is i32",
    ),
    (env(quit_3=fn([], [], kind="exit", code=256)), "import env.quit_3: exit code must be an"),
    (env(quit=fn(["f32"], [], kind="exit", code=None)), "import env.quit: exit with code null"),
    (env(stuck=fn([], [], kind="hang", ms=5)), "import env.stuck: hang takes nothing besides"),
    (env(stuck=fn([], [], kind="sleep")), "import env.stuck: does.kind is one of return, arg,"),
    (env(stuck=fn(["v128"], [], kind="hang")), "import env.stuck: params and results are lists"),
]


@pytest.mark.parametrize(("declared", "message"), BEYOND_THE_SCHEMA)
def test_a_declaration_the_schema_refuses_is_refused_by_the_worker_too(
    ready: tuple[Worker, Message], fixtures: dict[str, str], declared: dict[str, Any], message: str
) -> None:
    """The coordinator does not check what it sends: a worker must not trust the schema."""
    worker, _ = ready
    steps = [compile_(0, FIXTURE), linked(1, {"env": declared}, expected=expect("error"))]
    command = {
        "name": "run_segment",
        "segment": {
            "index": 0,
            "workdir": str(worker.workdir),
            "fixtures": fixtures,
            "steps": steps,
            "protocol": PROTOCOL_VERSION,
        },
    }
    with pytest.raises(ProtocolError):
        check_command(command)
    worker.send_raw(json.dumps(command).encode() + b"\n")
    events = worker.read_segment(STEP_S)
    assert events[-1]["name"] == "segment_finished", f"{events[-1]}\n{worker.stderr_tail()}"
    failed = by_index(events)[1]
    assert (failed["outcome"], failed["error_kind"]) == ("error", "scenario"), failed
    assert failed["message"].startswith(message), failed["message"]
