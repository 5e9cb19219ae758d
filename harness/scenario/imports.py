"""Host functions a scenario declares: by module and name, with a signature and a behaviour from
a fixed set, so an application's own module can be instantiated with no code in the scenario.

    imports:
      env:
        abort: {params: [i32, i32, i32, i32], does: trap}
        now: {results: [i64], does: {return: 1700000000}}
        log: {params: [i32], does: record}

An instantiate step names the modules it links (`imports: [env, wasi]`); it is sent the
declarations of those modules in the protocol's shape (`functions`, docs/protocol.md). A module
a step links but the scenario does not declare is the scenario's error; an import the module
needs but nobody declared stays the runtime's instantiate error, as an application sees it.
"""

from __future__ import annotations

from typing import Any

from harness.scenario.steps import Errors, wasm_value

BUILT_IN = ("host", "wasi")  # the fixed library and WASI: never declared
RESERVED = (*BUILT_IN, "wasi_snapshot_preview1", "wasi_unstable")
TYPES = ("i32", "i64", "f32", "f64")
SIMPLE = ("add", "record", "trap", "hang", "exit")  # behaviours that take no argument

Declared = dict[str, dict[str, dict[str, Any]]]  # module -> name -> {params, results, does}


def declared_imports(raw: Any, err: Errors) -> Declared:
    """The scenario's `imports:`, checked and in the protocol's shape."""
    found: Declared = {}
    for module, functions in (raw or {}).items():
        at = ("imports", module)
        if module in RESERVED:
            raise err(at, f"{module!r} is provided by the harness and cannot be declared")
        found[module] = {
            name: _function(spec, err, (*at, name)) for name, spec in functions.items()
        }
    return found


def functions_for(linked: list[str], declared: Declared, err: Errors, at: Any) -> Declared:
    """The declarations of the modules an instantiate step links."""
    missing = [m for m in linked if m not in BUILT_IN and m not in declared]
    if missing:
        known = ", ".join([*BUILT_IN, *declared])
        raise err(at, f"module {missing[0]!r} is not declared under `imports:` (known: {known})")
    return {m: declared[m] for m in linked if m not in BUILT_IN}


def _function(spec: dict[str, Any], err: Errors, at: tuple[Any, ...]) -> dict[str, Any]:
    params, results = list(spec.get("params", [])), list(spec.get("results", []))
    does = _behaviour(spec["does"], params, results, err, (*at, "does"))
    return {"params": params, "results": results, "does": does}


def _behaviour(
    raw: Any, params: list[str], results: list[str], err: Errors, at: tuple[Any, ...]
) -> dict[str, Any]:
    if isinstance(raw, str):
        if raw == "add":
            _check_add(params, results, err, at)
        if raw == "exit":
            _check_exit_code_param(params, err, at)
            return {"kind": "exit", "code": None}
        return {"kind": raw}
    ((kind, value),) = raw.items()
    if kind == "exit":
        return {"kind": "exit", "code": value}
    if len(results) != 1:
        raise err(at, f"`{kind}` returns one value: declare exactly one result")
    if kind == "return":
        typed = wasm_value({results[0]: value}, err, (*at, "return"))
        return {"kind": "return", "value": typed}
    if not 0 <= value < len(params) or params[value] != results[0]:
        raise err(at, f"`arg: {value}` needs parameter {value} of type {results[0]}")
    return {"kind": "arg", "index": value}


def _check_add(params: list[str], results: list[str], err: Errors, at: tuple[Any, ...]) -> None:
    if len(results) != 1 or not params or any(p != results[0] for p in params):
        raise err(at, "`add` sums its parameters: one result, and parameters of its type")


def _check_exit_code_param(params: list[str], err: Errors, at: tuple[Any, ...]) -> None:
    if not params or params[0] not in ("i32", "i64"):
        raise err(at, "`exit` without a code exits with parameter 0: declare it i32 or i64")
