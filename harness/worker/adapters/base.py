"""The interface every runtime adapter implements, and the errors adapters raise.

Handles (engine, module, store, instance) are opaque to the caller. An operation a release
cannot express raises `Unsupported` with a reason: it becomes an `unsupported` outcome, never a
false break. Anything a runtime raises is turned into outcome fields by `classify`.
"""

from __future__ import annotations

import re
from typing import Any

from harness.model.step import ErrorFields
from harness.worker.hostlib import Imports


class Unsupported(Exception):
    """This release's API has no way to do what the step asks."""


class RuntimeUnavailable(Exception):
    """The runtime cannot be imported or used at all in this interpreter."""


def parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text.split("+")[0])[:3])


Value = dict[str, Any]  # {"type": "i32"|"i64"|"f32"|"f64"|None, "value": number or "nan"/"inf"}

# Trap messages of runtimes (or releases) that give no trap code, mapped to the names wasmtime's
# TrapCode uses, so that trap codes compare across releases and families.
TRAP_MESSAGES = (
    (r"integer divide by zero|division by zero", "integer_division_by_zero"),
    (r"integer overflow", "integer_overflow"),
    (r"invalid conversion to integer|bad conversion", "bad_conversion_to_integer"),
    (r"unreachable", "unreachable"),
    (r"out of bounds memory access|memory out of bounds", "memory_out_of_bounds"),
    (r"call stack exhausted|stack overflow", "stack_overflow"),
    (r"all fuel consumed|out of fuel", "out_of_fuel"),
    (r"uninitialized element|indirect call to null|null reference", "indirect_call_to_null"),
    (r"indirect call type mismatch|bad signature", "bad_signature"),
    (r"undefined element|table out of bounds", "table_out_of_bounds"),
    (r"interrupt", "interrupt"),
    (r"misaligned", "heap_misaligned"),
)


def trap_code_from_message(message: str) -> str | None:
    """The trap code a trap message names, or None when it names none we know."""
    text = message.lower()
    for pattern, name in TRAP_MESSAGES:
        if re.search(pattern, text):
            return name
    return None


class Adapter:
    family = ""
    era = ""

    def __init__(self, version: str) -> None:
        self.version = version
        self.variant = ""
        self._adapted: list[str] = []

    def adapted(self, what: str) -> None:
        """Record a bridge this adapter built to perform the step in flight at all (a renamed
        method, a setting this release spells otherwise): an application's own code would hit
        that difference, so the step shows it and the diff compares it."""
        self._adapted.append(what)

    def take_adapted(self) -> list[str]:
        """What was bridged since the last call: the step that just ended records it."""
        taken, self._adapted = self._adapted, []
        return taken

    def select_variant(self, variant: str) -> None:
        """Configure a variant of the runtime; a family without variants accepts only ""."""
        if variant:
            raise RuntimeUnavailable(f"{self.family} has no variant {variant!r}")

    def info(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "version": self.version,
            "variant": self.variant,
            "adapter": self.era,
        }

    def new_engine(self, settings: dict[str, Any], workdir: str) -> Any:
        raise NotImplementedError

    def compile(self, engine: Any, wasm: bytes) -> Any:
        raise NotImplementedError

    def serialize(self, module: Any) -> bytes:
        raise NotImplementedError

    def deserialize(self, engine: Any, data: bytes) -> Any:
        raise NotImplementedError

    def deserialize_file(self, engine: Any, path: str) -> Any:
        raise NotImplementedError

    def new_store(self, engine: Any, fuel: int | None, wasi: dict[str, Any] | None) -> Any:
        raise NotImplementedError

    def instantiate(
        self, store: Any, module: Any, imports: Imports, wasi: dict[str, Any] | None
    ) -> Any:
        """An instance of the module with WASI (when `wasi` is given) and every module of
        `imports` defined, each function under its module's name."""
        raise NotImplementedError

    def call(
        self, store: Any, instance: Any, export: str, args: list[Value], other: Any = None
    ) -> list[Value]:
        """Call the export with its instance's store, or with `other`, another store the
        application passes instead (an API whose calls take no store cannot: Unsupported)."""
        raise NotImplementedError

    def fuel_left(self, store: Any) -> int | None:
        return None

    def close(self, handle: Any) -> str:
        raise NotImplementedError

    def classify(self, exc: BaseException) -> ErrorFields:
        """Outcome fields for an exception (error_kind, error_type, message, trap_code, ...)."""
        return {
            "outcome": "error",
            "error_kind": "runtime",
            "error_type": type(exc).__name__,
            "message": str(exc),
        }


def coerce(kind: str, raw: Any) -> Any:
    """A scenario value as the Python number the runtime expects for a wasm type."""
    value = raw["value"] if isinstance(raw, dict) else raw
    if kind in ("f32", "f64"):
        return float(value)
    if isinstance(value, float) and not value.is_integer():
        raise TypeError(f"{kind} needs an integer, got {value!r}")
    return int(value)


def typed(kind: str, value: Any) -> Value:
    if isinstance(value, float):
        if value != value:
            return {"type": kind, "value": "nan"}
        if value in (float("inf"), float("-inf")):
            return {"type": kind, "value": "inf" if value > 0 else "-inf"}
    return {"type": kind, "value": value}
