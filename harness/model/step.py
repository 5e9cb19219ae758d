"""A step's result as a typed record: what the worker reported, and what the coordinator added.
Stdlib only, Python 3.9 (the worker imports this package). Its JSON is read and written as
`harness.model.json` describes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict, cast

from harness.model.json import JsonObject, JsonValue, Reader, Word, json_list, json_object


class Outcome(Word):
    """How a step ended; a run's outcome is that of its first step that did not end ok."""

    OK = "ok"
    ERROR = "error"
    CRASH = "crash"
    TIMEOUT = "timeout"
    UNSUPPORTED = "unsupported"
    NOT_RUN = "not_run"


class WasmValue(TypedDict):
    """A value a call returned (or a scenario states): `value` is a number, or "nan"/"inf"."""

    type: str | None
    value: int | float | str


def _values(items: list[JsonObject] | None) -> Sequence[WasmValue] | None:
    return cast("list[WasmValue] | None", items)


@dataclass(frozen=True)
class StepResult:
    """One step's result: what the worker reported, and what the coordinator added to it."""

    index: int  # the step's position in the scenario; -1: the process died after the last step
    op: str  # compile, serialize, ..., or `teardown` for that death
    outcome: Outcome
    line: int | None = None  # the step's line in the scenario file
    error_kind: str | None = None  # trap, exit, harness, scenario, or the adapter's class
    error_type: str | None = None
    message: str | None = None  # cut at 8000 characters by the coordinator
    trap_code: str | None = None  # derived for comparison across API eras
    exit_code: int | None = None
    signal: str | None = None
    values: Sequence[WasmValue] | None = None  # what a call returned
    detail: Mapping[str, JsonValue] = field(default_factory=dict)  # op-specific facts
    duration_s: float | None = None
    expect: Mapping[str, JsonValue] = field(default_factory=dict)  # the expectation it was held to
    met: bool | None = None
    why: str | None = None  # why it missed its expectation, or why it did not run
    normalized_message: str | None = None  # added by the coordinator
    # optional: written only when set
    stderr_tail: str | None = None  # the worker's stderr, when the process died or a step failed
    known: str | None = None  # the reason of the scenario's `known` entry that applied
    stated_results: Sequence[WasmValue] | None = None  # the scenario's `results:` for this call
    trap_code_api: str | None = None  # what reading the API's own trap code gave
    adapted: Sequence[str] | None = None  # what an adapter bridged to perform the step
    extra: Mapping[str, JsonValue] = field(default_factory=dict)
    missing: frozenset[str] = frozenset()

    ALWAYS = frozenset(
        {
            "index",
            "op",
            "line",
            "outcome",
            "error_kind",
            "error_type",
            "message",
            "trap_code",
            "exit_code",
            "signal",
            "values",
            "detail",
            "duration_s",
            "expect",
            "met",
            "why",
            "normalized_message",
        }
    )
    OPTIONAL = frozenset({"stderr_tail", "known", "stated_results", "trap_code_api", "adapted"})

    @classmethod
    def from_json(cls, data: Mapping[str, JsonValue]) -> StepResult:
        r = Reader(data, f"step {data.get('index')!r}", cls.ALWAYS, cls.OPTIONAL)
        return cls(
            index=r.integer("index"),
            op=r.text("op"),
            outcome=r.word("outcome", Outcome),
            line=r.opt_integer("line"),
            error_kind=r.opt_text("error_kind"),
            error_type=r.opt_text("error_type"),
            message=r.opt_text("message"),
            trap_code=r.opt_text("trap_code"),
            exit_code=r.opt_integer("exit_code"),
            signal=r.opt_text("signal"),
            values=_values(r.opt_mappings("values")),
            detail=r.mapping("detail"),
            duration_s=r.opt_number("duration_s"),
            expect=r.mapping("expect"),
            met=r.opt_flag("met"),
            why=r.opt_text("why"),
            normalized_message=r.opt_text("normalized_message"),
            stderr_tail=r.opt_text("stderr_tail"),
            known=r.opt_text("known"),
            stated_results=_values(r.opt_mappings("stated_results")),
            trap_code_api=r.opt_text("trap_code_api"),
            adapted=r.opt_texts("adapted"),
            extra=r.extra(),
            missing=r.missing(),
        )

    def to_json(self) -> JsonObject:
        always: list[tuple[str, JsonValue]] = [
            ("index", self.index),
            ("op", self.op),
            ("line", self.line),
            ("outcome", self.outcome.value),
            ("error_kind", self.error_kind),
            ("error_type", self.error_type),
            ("message", self.message),
            ("trap_code", self.trap_code),
            ("exit_code", self.exit_code),
            ("signal", self.signal),
            ("values", json_list(self.values)),
            ("detail", dict(self.detail)),
            ("duration_s", self.duration_s),
            ("expect", dict(self.expect)),
            ("met", self.met),
            ("why", self.why),
            ("normalized_message", self.normalized_message),
        ]
        optional: list[tuple[str, JsonValue]] = [
            ("stderr_tail", self.stderr_tail),
            ("known", self.known),
            ("stated_results", json_list(self.stated_results)),
            ("trap_code_api", self.trap_code_api),
            ("adapted", json_list(self.adapted)),
        ]
        return json_object(always, optional, self.missing, self.extra)
