"""A step and its result: as the protocol carries them, and as a typed record. Stdlib only,
Python 3.9 (the worker imports this package).

The worker gets a `StepJson` and builds a `StepResultJson`, plain dicts typed as TypedDicts (it
has no more than the stdlib on 3.9, and the protocol carries them as they are); the coordinator
adds to the result, and the finished one is read as a `StepResult`, whose JSON is read and
written as `harness.model.json` describes.
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


class _ExpectJson(TypedDict):
    kind: str  # ok, error, trap, exit, crash, timeout, unsupported, or any (an observation)


class ExpectJson(_ExpectJson, total=False):
    """What a step should do, as the protocol carries it (its schema's `expectation`)."""

    pattern: str  # a regular expression; for a trap also a trap code, for a crash a signal
    exit_code: int  # the WASI exit code an `exit` expectation wants


class StepHead(TypedDict):
    """What a step's result repeats of its step; the coordinator's `teardown` pseudo-step (the
    process died after the last step) has no more than this."""

    index: int
    op: str
    line: int | None
    expect: ExpectJson


class _StepJson(StepHead):
    args: JsonObject  # the op's own, resolved by the coordinator


class StepJson(_StepJson, total=False):
    """One step as the coordinator sends it to a worker (the protocol schema's `step`)."""

    known: str  # why this runtime is known to deviate here: `expect` is then that behaviour


class ErrorFields(TypedDict, total=False):
    """The outcome fields a step gets from how it went wrong: an adapter's reading of what the
    runtime raised, the worker's own error, or the coordinator's crash or timeout."""

    outcome: str
    error_kind: str
    error_type: str
    message: str
    trap_code: str | None
    trap_code_api: str
    exit_code: int
    signal: str


class _StepResultJson(TypedDict):
    index: int
    op: str
    line: int | None
    outcome: str
    error_kind: str | None
    error_type: str | None
    message: str | None
    trap_code: str | None
    exit_code: int | None
    signal: str | None
    values: list[WasmValue] | None
    detail: JsonObject
    duration_s: float | None
    expect: ExpectJson
    met: bool | None
    why: str | None


class StepResultJson(_StepResultJson, total=False):
    """A step's result as the worker fills it in while the step runs and the protocol carries it
    (the schema's `stepResult`): a plain dict, so the worker needs nothing but the stdlib to build
    it. The coordinator adds to it; `StepResult` reads the finished one."""

    trap_code_api: str  # what reading the API's own trap code gave, where it has one
    adapted: list[str]  # what an adapter bridged to perform the step
    # added by the coordinator
    normalized_message: str | None
    stderr_tail: str
    known: str
    stated_results: list[WasmValue]


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
