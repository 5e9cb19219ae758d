"""Steps as the coordinator sends them: arguments resolved, defaults filled in.

Written out here rather than resolved from scenario files, so the suite shows the wire format a
worker must accept, field by field (`run_segment.json` and `common.json` define it).
"""

from __future__ import annotations

from typing import Any

Step = dict[str, Any]


def expect(kind: str = "ok", pattern: str | None = None, exit_code: int | None = None) -> Step:
    out: Step = {"kind": kind}
    if pattern is not None:
        out["pattern"] = pattern
    if exit_code is not None:
        out["exit_code"] = exit_code
    return out


def step(index: int, op: str, args: Step, expected: Step | None = None) -> Step:
    return {
        "index": index,
        "op": op,
        "args": args,
        "expect": expected or expect(),
        "line": index + 1,
    }


def value(number: Any, kind: str | None = None) -> Step:
    return {"type": kind, "value": number}


def compile_(
    index: int,
    fixture: str,
    as_: str = "m",
    engine: Step | None = None,
    expected: Step | None = None,
) -> Step:
    return step(index, "compile", {"fixture": fixture, "as": as_, "engine": engine or {}}, expected)


def serialize(index: int, to: str, module: str = "m", expected: Step | None = None) -> Step:
    return step(index, "serialize", {"module": module, "to": to}, expected)


def deserialize(
    index: int,
    source: str,
    as_: str = "m",
    via: str = "bytes",
    corrupt: Step | None = None,
    fixture: bool = False,
    expected: Step | None = None,
) -> Step:
    args: Step = {"as": as_, "via": via, "corrupt": corrupt, "engine": {}}
    args["wasm" if fixture else "from"] = source
    return step(index, "deserialize", args, expected)


def instantiate(
    index: int,
    module: str = "m",
    as_: str = "i",
    store: str = "s",
    imports: tuple[str, ...] = (),
    expected: Step | None = None,
    functions: Step | None = None,
) -> Step:
    args = {
        "module": module,
        "as": as_,
        "store": store,
        "imports": list(imports),
        "functions": functions or {},
        "wasi": {"args": [], "env": {}},
        "fuel": None,
    }
    return step(index, "instantiate", args, expected)


def call(
    index: int,
    export: str,
    args: list[Step] | None = None,
    results: list[Step] | None = None,
    instance: str = "i",
    expected: Step | None = None,
    store: str | None = None,
) -> Step:
    body = {
        "instance": instance,
        "store": store,
        "export": export,
        "args": args or [],
        "results": results,
    }
    return step(index, "call", body, expected)


def close(
    index: int, order: list[list[str | None]], expected: Step | None = None, always: bool = False
) -> Step:
    body = {"order": order, "explicit": True, "always": always}
    return step(index, "close", body, expected)
