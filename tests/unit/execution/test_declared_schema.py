"""Protocol 4 in the schemas: an instantiate step's `functions` (the host functions a scenario
declares) and a call's `host_calls` entries for them. What the schema can say of a declaration's
consistency it says; the rest the workers check (tests/conformance/test_wire_declared_imports.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.execution.messages import check_command, check_event
from harness.worker.protocol import PROTOCOL_VERSION, ProtocolError


def fn(params: list[str], results: list[str], **does: Any) -> dict[str, Any]:
    return {"params": params, "results": results, "does": does}


def instantiate(functions: Any, imports: list[str] | None = None) -> dict[str, Any]:
    args = {
        "module": "m",
        "as": "i",
        "store": "s",
        "imports": ["env"] if imports is None else imports,
        "functions": functions,
        "wasi": {"args": [], "env": {}},
        "fuel": None,
    }
    step = {"index": 1, "op": "instantiate", "args": args, "expect": {"kind": "ok"}, "line": 2}
    segment = {"index": 0, "workdir": "/w", "fixtures": {}, "steps": [step]}
    return {"name": "run_segment", "segment": {**segment, "protocol": PROTOCOL_VERSION}}


EVERY_BEHAVIOUR = {
    "answer": fn([], ["i32"], kind="return", value=4294967295),
    "typed": fn([], ["i64"], kind="return", value={"type": "i64", "value": -1}),
    "untyped": fn([], ["f64"], kind="return", value={"type": None, "value": "-inf"}),
    "tenth": fn([], ["f32"], kind="return", value=0.1),
    "second": fn(["i32", "i64"], ["i64"], kind="arg", index=1),
    "sum": fn(["f32", "f32"], ["f32"], kind="add"),
    "log": fn(["i32", "f64"], ["i32", "f64"], kind="record"),
    "fail": fn([], [], kind="trap"),
    "quit": fn(["i64"], [], kind="exit", code=None),
    "quit_3": fn([], [], kind="exit", code=3),
    "stuck": fn([], [], kind="hang"),
}


def test_every_behaviour_is_a_valid_declaration() -> None:
    check_command(instantiate({"env": EVERY_BEHAVIOUR}, ["host", "env", "wasi"]))
    check_command(instantiate({}, ["host", "wasi"]))
    check_command(instantiate({"": {}, "./pkg_bg.js": EVERY_BEHAVIOUR}, ["", "./pkg_bg.js"]))


def test_functions_is_required() -> None:
    command = instantiate({})
    del command["segment"]["steps"][0]["args"]["functions"]
    with pytest.raises(ProtocolError, match="'functions' is a required property"):
        check_command(command)


REFUSED = [
    ({"host": {}}, "functions: 'host' should not be valid"),
    ({"wasi": {}}, "functions: 'wasi' should not be valid"),
    ({"env": {"f": fn([], [], kind="sleep")}}, "'sleep' is not one of"),
    ({"env": {"f": fn([], [], kind="trap", code=1)}}, "Additional properties are not allowed"),
    ({"env": {"f": {**fn([], [], kind="trap"), "doc": "x"}}}, "Additional properties"),
    ({"env": {"f": fn([], ["v128"], kind="trap")}}, "'v128' is not one of"),
    ({"env": {"f": fn([], ["i32"], kind="return")}}, "'value' is a required property"),
    ({"env": {"f": fn([], [], kind="exit")}}, "'code' is a required property"),
    ({"env": {"f": fn([], [], kind="exit", code=256)}}, "256 is greater than the maximum"),
    ({"env": {"f": fn(["i32"], ["i32"], kind="arg", index=-1)}}, "-1 is less than the minimum"),
    ({"env": {"f": fn([], ["i32", "i32"], kind="return", value=1)}}, "is not valid under any"),
    ({"env": {"f": fn(["i32"], [], kind="add")}}, "is not valid under any"),
    ({"env": {"f": fn(["f64", "f32"], ["f64"], kind="add")}}, "is not valid under any"),
    ({"env": {"f": fn([], ["i32"], kind="return", value=2**32)}}, "greater than the maximum"),
    ({"env": {"f": fn([], ["i32"], kind="return", value=0.5)}}, "is not valid under any"),
    (
        {"env": {"f": fn([], ["i32"], kind="return", value={"type": "i64", "value": 1})}},
        "is not valid under any",
    ),
    ({"env": {"f": fn(["f32"], [], kind="exit", code=None)}}, "'f32' is not one of"),
    ({"env": {"f": fn([], [], kind="exit", code=None)}}, "should be non-empty"),
]


@pytest.mark.parametrize(("functions", "fragment"), REFUSED)
def test_what_the_schema_can_tell_of_a_declaration_it_refuses(
    functions: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ProtocolError) as refused:
        check_command(instantiate(functions, sorted(functions)))
    assert fragment in str(refused.value)


def test_what_it_cannot_tell_the_workers_check() -> None:
    """An `arg` index past the params or of another type, a module imported and not declared."""
    check_command(instantiate({"env": {"f": fn(["i32"], ["i32"], kind="arg", index=5)}}))
    check_command(instantiate({"env": {"f": fn(["i32"], ["i64"], kind="arg", index=0)}}))
    check_command(instantiate({}, ["env"]))


def finished(detail: dict[str, Any], op: str = "call") -> dict[str, Any]:
    result = {
        "index": 2,
        "op": op,
        "line": 3,
        "outcome": "ok",
        "error_kind": None,
        "error_type": None,
        "message": None,
        "trap_code": None,
        "exit_code": None,
        "signal": None,
        "values": [] if op == "call" else None,
        "detail": detail,
        "duration_s": 0.001,
        "expect": {"kind": "ok"},
        "met": True,
        "why": None,
    }
    return {"name": "step_finished", "result": result}


def test_host_calls_holds_the_library_s_records_and_declared_ones() -> None:
    declared = {"function": "env.log", "args": [{"type": "f64", "value": "nan"}]}
    check_event(finished({"host_calls": [41, declared, 42]}))
    check_event(finished({"imports": ["host", "env", "wasi"]}, op="instantiate"))
    for broken in ({"function": "env.log"}, {**declared, "at": 1}, "env.log"):
        with pytest.raises(ProtocolError, match="host_calls"):
            check_event(finished({"host_calls": [broken]}))
