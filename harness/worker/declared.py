"""Host functions a scenario declares (protocol 4): per module and name, a signature and one
behaviour from a fixed set, so an application's own module can be instantiated with no code in
the scenario. The Go worker (wazero/declared.go) implements the same set with the same messages;
docs/protocol.md describes it.

A declaration that contradicts itself or the step raises `DeclarationError`, the scenario's error
(the segment reports it as error_kind `scenario`, naming the import). An import the module needs
and nobody declared is left to the runtime, which reports it as it would to an application.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable

from harness.worker.hostlib import (
    MODULE,
    HostFunc,
    HostLibrary,
    HostTrap,
    Imports,
    block,
    exit_process,
    trap_message,
    wrap,
)

WASI = "wasi"
WASI_MODULES = ("wasi_snapshot_preview1", "wasi_unstable")
VALUE_TYPES = ("i32", "i64", "f32", "f64")
FLOATS = ("f32", "f64")
INT_RANGES = {"i32": (-(2**31), 2**32 - 1), "i64": (-(2**63), 2**64 - 1)}
NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
# Each behaviour's fields besides `kind`; the first three return exactly one result.
FIELDS: dict[str, tuple[str, ...]] = {
    "return": ("value",),
    "arg": ("index",),
    "add": (),
    "record": (),
    "trap": (),
    "exit": ("code",),
    "hang": (),
}
ONE_RESULT = ("return", "arg", "add")

Record = Callable[[Any], None]
Body = Callable[..., Any]


class DeclarationError(Exception):
    """A declaration that contradicts itself or the step: the scenario's error."""


class Declarations:
    """The modules one segment's steps declare. wazero links a module name once per runtime, so
    in every worker alike a segment keeps the first declaration of each module: another one for
    it is the scenario's error, as is a module of WASI's name in a segment that imports WASI."""

    def __init__(self, library: HostLibrary) -> None:
        self.library = library
        self.seen: dict[str, dict[str, str]] = {}  # module -> name -> its declaration as JSON
        self.wasi = False

    def modules(self, imports: list[str], functions: dict[str, Any]) -> Imports:
        """What one instantiate links: the library under `host` when imported, then each
        declared module; checked whole before anything is kept."""
        check_modules(imports, functions)
        self._check_wasi(imports, functions)
        built = {
            m: declare_module(m, functions[m], self.library.calls.append) for m in sorted(functions)
        }
        canonical = {m: _canonical(functions[m]) for m in sorted(functions)}
        for module, declared in canonical.items():
            _check_same(module, self.seen.get(module, declared), declared)
        for module, declared in canonical.items():
            self.seen.setdefault(module, declared)
        self.wasi = self.wasi or WASI in imports
        linked: Imports = {MODULE: self.library.functions} if MODULE in imports else {}
        linked.update(built)
        return linked

    def _check_wasi(self, imports: list[str], functions: dict[str, Any]) -> None:
        wasi = self.wasi or WASI in imports
        clash = [m for m in sorted(functions) if m in WASI_MODULES and wasi]
        if WASI in imports:
            clash += [m for m in sorted(self.seen) if m in WASI_MODULES]
        if clash:
            raise DeclarationError(f"module '{clash[0]}' is WASI's, which this segment imports too")


def check_modules(imports: list[str], functions: dict[str, Any]) -> None:
    """Every module the step imports is the library, WASI or declared, and only those are."""
    for module in imports:
        if module not in (MODULE, WASI) and module not in functions:
            raise DeclarationError(
                f"imports name module '{module}', which functions does not declare"
            )
    for module in sorted(functions):
        if module in (MODULE, WASI):
            raise DeclarationError(f"module '{module}' is the harness's own: it cannot be declared")
        if module not in imports:
            raise DeclarationError(
                f"functions declares module '{module}', which this step does not import"
            )


def declare_module(module: str, raw: Any, record: Record) -> dict[str, HostFunc]:
    if not isinstance(raw, dict):
        raise DeclarationError(f"module '{module}': functions maps each name to a declaration")
    return {name: declare(f"{module}.{name}", raw[name], record) for name in sorted(raw)}


def declare(label: str, raw: Any, record: Record) -> HostFunc:
    """One declared function (`label` is MODULE.NAME) as a host function."""
    if not isinstance(raw, dict) or set(raw) != {"params", "results", "does"}:
        raise DeclarationError(f"import {label}: a declaration has params, results and does")
    params, results = _types(label, raw["params"]), _types(label, raw["results"])
    does = raw["does"]
    kind = does.get("kind") if isinstance(does, dict) else None
    if not isinstance(kind, str) or kind not in FIELDS:
        raise DeclarationError(f"import {label}: does.kind is one of {', '.join(FIELDS)}")
    if set(does) != {"kind", *FIELDS[kind]}:
        fields = ", ".join(FIELDS[kind]) or "nothing"
        raise DeclarationError(f"import {label}: {kind} takes {fields} besides kind")
    if kind in ONE_RESULT and len(results) != 1:
        raise DeclarationError(
            f"import {label}: {kind} needs exactly one result, it declares {len(results)}"
        )
    body = BODIES[kind](label, params, results, does, record)
    return HostFunc(params, results, body)


def _types(label: str, raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(t, str) and t in VALUE_TYPES for t in raw):
        raise DeclarationError(
            f"import {label}: params and results are lists of i32, i64, f32, f64"
        )
    return tuple(raw)


Types = tuple[str, ...]


def _return(label: str, params: Types, results: Types, does: dict[str, Any], _: Record) -> Body:
    constant = _constant(label, results[0], does["value"])
    return lambda *args: constant


def _arg(label: str, params: Types, results: Types, does: dict[str, Any], _: Record) -> Body:
    index = does["index"]
    if not _is_int(index):
        raise DeclarationError(f"import {label}: arg index must be an integer")
    index = int(index)
    if not 0 <= index < len(params):
        raise DeclarationError(
            f"import {label}: arg index {index} is out of range: it declares {len(params)} param(s)"
        )
    if params[index] != results[0]:
        raise DeclarationError(
            f"import {label}: arg {index} is {params[index]}, the result is {results[0]}"
        )
    return lambda *args: args[index]


def _add(label: str, params: Types, results: Types, does: dict[str, Any], _: Record) -> Body:
    result = results[0]
    for position, kind in enumerate(params):
        if kind != result:
            raise DeclarationError(
                f"import {label}: add needs every param of the result's type {result}, "
                f"param {position} is {kind}"
            )
    if result in FLOATS:
        return _float_sum
    bits = 32 if result == "i32" else 64
    return lambda *args: wrap(sum(args), bits)


def _float_sum(*args: float) -> float:
    # left to right in double precision from the first argument (so -0.0 stays -0.0), rounded
    # once to the result's type by the runtime; the Go worker sums the same way
    total = args[0] if args else 0.0
    for arg in args[1:]:
        total += arg
    return total


def _record(label: str, params: Types, results: Types, does: dict[str, Any], log: Record) -> Body:
    zeros = _returned([0.0 if kind in FLOATS else 0 for kind in results])

    def body(*args: Any) -> Any:
        log({"function": label, "args": [_value(k, a) for k, a in zip(params, args)]})
        return zeros

    return body


def _trap(label: str, params: Types, results: Types, does: dict[str, Any], _: Record) -> Body:
    message = trap_message(label)

    def body(*args: Any) -> Any:
        raise HostTrap(message)

    return body


def _exit(label: str, params: Types, results: Types, does: dict[str, Any], _: Record) -> Body:
    code = does["code"]
    if code is None:
        if not params or params[0] not in ("i32", "i64"):
            raise DeclarationError(
                f"import {label}: exit with code null exits with param 0, which must be i32 or i64"
            )
        return lambda *args: exit_process(args[0])
    if not _is_int(code) or not 0 <= code <= 255:
        raise DeclarationError(
            f"import {label}: exit code must be an integer from 0 to 255, or null"
        )
    return lambda *args: exit_process(int(code))


def _hang(label: str, params: Types, results: Types, does: dict[str, Any], _: Record) -> Body:
    return lambda *args: block()


BODIES: dict[str, Callable[[str, Types, Types, dict[str, Any], Record], Body]] = {
    "return": _return,
    "arg": _arg,
    "add": _add,
    "record": _record,
    "trap": _trap,
    "exit": _exit,
    "hang": _hang,
}


def _constant(label: str, kind: str, raw: Any) -> Any:
    """`return`'s value (a number, or a value typed as the result) as the runtime takes it."""
    if isinstance(raw, dict):
        if set(raw) != {"type", "value"}:
            raise DeclarationError(f"import {label}: return value is a number or a value")
        if raw["type"] not in (None, kind):
            raise DeclarationError(
                f"import {label}: return value is typed {raw['type']}, the result is {kind}"
            )
        raw = raw["value"]
    if kind in FLOATS:
        if isinstance(raw, str) and raw in NON_FINITE:
            return NON_FINITE[raw]
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            try:
                return float(raw)
            except OverflowError:  # an integer beyond any double: as Go parses it, infinite
                return math.inf if raw > 0 else -math.inf
    elif _is_int(raw) and INT_RANGES[kind][0] <= raw <= INT_RANGES[kind][1]:
        return wrap(int(raw), 32 if kind == "i32" else 64)
    raise DeclarationError(f"import {label}: return value does not fit {kind}")


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _returned(values: list[Any]) -> Any:
    """Results as a host function hands them to the runtime: none, one, or a tuple."""
    if not values:
        return None
    return values[0] if len(values) == 1 else tuple(values)


def _value(kind: str, value: Any) -> dict[str, Any]:
    """An argument as the protocol carries a value (non-finite floats as strings)."""
    if isinstance(value, float) and not math.isfinite(value):
        text = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return {"type": kind, "value": text}
    return {"type": kind, "value": value}


def _canonical(declared: Any) -> dict[str, str]:
    if not isinstance(declared, dict):
        return {}
    return {name: json.dumps(spec, sort_keys=True) for name, spec in declared.items()}


def _check_same(module: str, earlier: dict[str, str], now: dict[str, str]) -> None:
    for name in sorted(set(earlier) | set(now)):
        if earlier.get(name) != now.get(name):
            raise DeclarationError(
                f"import {module}.{name} is declared otherwise than by an earlier instantiate "
                "of this segment"
            )
