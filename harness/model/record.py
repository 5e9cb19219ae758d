"""Typed records: a step's result, a run and a transition, with their JSON forms. Stdlib only,
Python 3.9 (the worker imports this package).

Each record reads the JSON that results.jsonl and compat.json hold (`from_json`) and writes it
back (`to_json`) unchanged, so a dict crosses only the store, the protocol and the reports:

- a key the record does not model is kept in `extra` and written back as it was;
- a key it models but the JSON lacked (a record of an older format, a test's minimal record)
  reads as the field's default and is listed in `missing`, so it is not written back;
- an optional key (one the writers add only when there is something to say, e.g. a step's
  `stderr_tail`) is written only when it is not None; given as null, it is kept in `extra`.

Nested JSON (a run's `params`, a step's `detail`, `expect` and returned values) is held as it
was read, not copied: treat it as read-only.

A run's key `(scenario, params_id, label)` and its label (`runtime`, or `A→B` for an upgrade)
are computed here and nowhere else: `RunRecord.key` / `.label`, and `run_key` / `run_label` for
code that still holds the JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TypedDict, TypeVar, Union, cast

JsonValue = Union[None, bool, int, float, str, list["JsonValue"], dict[str, "JsonValue"]]
JsonObject = dict[str, JsonValue]
RunKey = tuple[str, str, str]  # (scenario, params_id, run label)

UPGRADE_ARROW = "→"  # in a run label: produced on the left, consumed on the right


class RecordError(ValueError):
    """A record whose JSON does not have the shape its format promises."""


class _Word(str, Enum):
    """An enum whose members are the strings JSON holds, and print as them."""

    def __str__(self) -> str:
        return str(self.value)


class Outcome(_Word):
    """How a step ended; a run's outcome is that of its first step that did not end ok."""

    OK = "ok"
    ERROR = "error"
    CRASH = "crash"
    TIMEOUT = "timeout"
    UNSUPPORTED = "unsupported"
    NOT_RUN = "not_run"


class Status(_Word):
    """Whether a run met its scenario's expectations."""

    PASS = "pass"
    FAIL = "fail"
    UNSUPPORTED = "unsupported"
    NOT_RUN = "not_run"


class TransitionKind(_Word):
    BREAK = "break"
    FIX = "fix"
    DRIFT = "drift"
    FLAKY = "flaky"
    SAME = "same"


class Axis(_Word):
    """What a transition compares: adjacent releases, or one of an upgrade diff's three axes."""

    RELEASE = "release"
    CONTROL = "control"
    CONSUMER = "consumer"
    PRODUCER = "producer"


class WasmValue(TypedDict):
    """A value a call returned (or a scenario states): `value` is a number, or "nan"/"inf"."""

    type: str | None
    value: int | float | str


class Summary(TypedDict, total=False):
    """One side of a transition (and a rerun): the outcome class and what explains it."""

    outcome: str
    step: int
    op: str
    error_kind: str
    trap_code: str
    trap_code_api: str
    exit_code: int
    signal: str
    message: str
    adapted: str  # what an adapter bridged, per step
    cache: str  # cache hits and misses where a step states one
    values: str  # the differing values of a wrong result


def pair_label(producer: str, consumer: str) -> str:
    """The label of an upgrade run: `A→B`."""
    return f"{producer}{UPGRADE_ARROW}{consumer}"


def run_label(record: Mapping[str, object]) -> str:
    """The label of a run record's JSON: its runtime, or `A→B` for an upgrade run."""
    if "from" in record:
        return pair_label(str(record["from"]), str(record.get("to")))
    return str(record.get("runtime"))


def run_key(record: Mapping[str, object]) -> RunKey:
    """The key of a run record's JSON: (scenario, params_id, label)."""
    return (str(record["scenario"]), str(record.get("params_id") or ""), run_label(record))


# -- reading JSON --------------------------------------------------------------------------------

_E = TypeVar("_E", bound=_Word)


class _Reader:
    """Reads one JSON object's keys with their types checked. An absent key reads as the default
    the caller gives; a present one must have the declared type (null only where allowed)."""

    def __init__(
        self,
        data: Mapping[str, JsonValue],
        what: str,
        always: frozenset[str],
        optional: frozenset[str],
    ) -> None:
        if not isinstance(data, Mapping):
            raise RecordError(f"{what}: expected a JSON object, got {type(data).__name__}")
        self.data, self.what = data, what
        self.always, self.optional = always, optional

    def error(self, key: str, expected: str) -> RecordError:
        got = self.data.get(key)
        return RecordError(f"{self.what}: {key!r} must be {expected}, got {got!r}")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str):
            raise self.error(key, "a string")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self.error(key, "a string or null")
        return value

    def integer(self, key: str) -> int:
        value = self.data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(key, "an integer")
        return value

    def opt_integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise self.error(key, "an integer or null")
        return value

    def number(self, key: str, default: float) -> float:
        value = self.data.get(key, default)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise self.error(key, "a number")
        return value  # as read: an int stays an int, so it is written back as one

    def opt_number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            raise self.error(key, "a number or null")
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if not isinstance(value, bool):
            raise self.error(key, "true or false")
        return value

    def opt_flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, bool):
            raise self.error(key, "true, false or null")
        return value

    def word(self, key: str, kind: type[_E], default: _E | None = None) -> _E:
        if key not in self.data and default is not None:
            return default
        try:
            return kind(self.data.get(key))
        except ValueError:
            raise self.error(key, "one of " + ", ".join(m.value for m in kind)) from None

    def mapping(self, key: str) -> Mapping[str, JsonValue]:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, "an object")
        return value

    def _list(self, key: str, null: bool) -> list[JsonValue] | None:
        value = self.data.get(key, None if null else [])
        if not isinstance(value, list) and not (null and value is None):
            raise self.error(key, "a list or null" if null else "a list")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        return self._texts(key, False) or ()

    def opt_texts(self, key: str) -> tuple[str, ...] | None:
        return self._texts(key, True)

    def _texts(self, key: str, null: bool) -> tuple[str, ...] | None:
        items = self._list(key, null)
        if items is not None and not all(isinstance(item, str) for item in items):
            raise self.error(key, "a list of strings")
        return None if items is None else tuple(cast("list[str]", items))

    def mappings(self, key: str) -> list[JsonObject]:
        return self._mappings(key, False) or []

    def opt_mappings(self, key: str) -> list[JsonObject] | None:
        return self._mappings(key, True)

    def _mappings(self, key: str, null: bool) -> list[JsonObject] | None:
        items = self._list(key, null)
        if items is not None and not all(isinstance(item, dict) for item in items):
            raise self.error(key, "a list of objects")
        return cast("list[JsonObject] | None", items)

    def missing(self, *expected_absent: str) -> frozenset[str]:
        """The modelled keys the JSON lacked (not written back), but those it is right to lack."""
        return self.always.difference(self.data, expected_absent)

    def extra(self) -> dict[str, JsonValue]:
        """Keys not modelled, and optional keys given as null (written back as they were)."""
        rest = self.data.keys() - self.always
        kept = {k for k in rest if k not in self.optional or self.data[k] is None}
        return {k: v for k, v in self.data.items() if k in kept} if kept else {}


def _json(
    always: Sequence[tuple[str, JsonValue]],
    optional: Sequence[tuple[str, JsonValue]],
    missing: frozenset[str],
    extra: Mapping[str, JsonValue],
) -> JsonObject:
    out: JsonObject = {k: v for k, v in always if k not in missing}
    out.update((k, v) for k, v in optional if v is not None)
    out.update(extra)
    return out


def _values(items: list[JsonObject] | None) -> Sequence[WasmValue] | None:
    return cast("list[WasmValue] | None", items)


def _copy(items: Sequence[object] | None) -> JsonValue:
    return None if items is None else cast("list[JsonValue]", list(items))


# -- the records ---------------------------------------------------------------------------------


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
        r = _Reader(data, f"step {data.get('index')!r}", cls.ALWAYS, cls.OPTIONAL)
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
            ("values", _copy(self.values)),
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
            ("stated_results", _copy(self.stated_results)),
            ("trap_code_api", self.trap_code_api),
            ("adapted", _copy(self.adapted)),
        ]
        return _json(always, optional, self.missing, self.extra)


@dataclass(frozen=True)
class RunRecord:
    """A run: a scenario (with one parameter set) on one runtime, or an upgrade run that
    produced on one runtime and, after a restart, consumed on another.

    A plain run has `runtime` (and `producer` when a `producer: other-family` scenario ran its
    first segment elsewhere); an upgrade run has `producer` and `consumer` (JSON `from`, `to`)."""

    scenario: str
    outcome: Outcome
    params_id: str = ""
    runtime: str | None = None
    producer: str | None = None
    consumer: str | None = None
    path: str = ""
    tags: tuple[str, ...] = ()
    params: Mapping[str, JsonValue] = field(default_factory=dict)
    case: str = ""
    status: Status | None = None  # None only for a record that lacks it (a test's minimal run)
    reason: str | None = None  # why it stopped early, or why it did not run
    steps: tuple[StepResult, ...] = ()
    segments: Sequence[Mapping[str, JsonValue]] = ()
    duration_s: float = 0.0
    workdir: str | None = None  # kept for a failed run (or with --keep-work)
    # optional: written only when set
    known: tuple[str, ...] | None = None  # the `known` reasons that applied
    reruns: Sequence[Summary] | None = None  # each rerun's outcome, for a run beside a change
    flaky: bool | None = None  # whether a rerun behaved differently
    extra: Mapping[str, JsonValue] = field(default_factory=dict)
    missing: frozenset[str] = frozenset()

    ALWAYS = frozenset(
        {
            "scenario",
            "path",
            "tags",
            "params",
            "params_id",
            "case",
            "runtime",
            "from",
            "to",
            "outcome",
            "status",
            "reason",
            "steps",
            "segments",
            "duration_s",
            "workdir",
        }
    )
    OPTIONAL = frozenset({"producer", "known", "reruns", "flaky"})

    def __post_init__(self) -> None:
        if (self.runtime is None) == (self.consumer is None) or (
            self.consumer is not None and self.producer is None
        ):
            raise RecordError(
                f"run of {self.scenario!r}: a run has a `runtime`, or a `from` and a `to`"
            )

    @property
    def is_upgrade(self) -> bool:
        return self.consumer is not None

    @property
    def is_control(self) -> bool:
        """An upgrade run from a runtime to itself (A→A): what the application saw before."""
        return self.consumer is not None and self.producer == self.consumer

    @property
    def label(self) -> str:
        """The runtime the run ran on, or `A→B` for an upgrade run."""
        if self.consumer is not None:
            return pair_label(str(self.producer), self.consumer)
        return str(self.runtime)

    @property
    def key(self) -> RunKey:
        return (self.scenario, self.params_id, self.label)

    @classmethod
    def from_json(cls, data: Mapping[str, JsonValue]) -> RunRecord:
        r = _Reader(data, f"run of {data.get('scenario')!r}", cls.ALWAYS, cls.OPTIONAL)
        upgrade = "from" in data
        return cls(
            scenario=r.text("scenario"),
            outcome=r.word("outcome", Outcome),
            params_id=r.text("params_id", ""),
            runtime=None if upgrade else r.text("runtime"),
            producer=r.text("from") if upgrade else r.opt_text("producer"),
            consumer=r.text("to") if upgrade else None,
            path=r.text("path", ""),
            tags=r.texts("tags"),
            params=r.mapping("params"),
            case=r.text("case", ""),
            status=r.word("status", Status) if "status" in data else None,
            reason=r.opt_text("reason"),
            steps=tuple(StepResult.from_json(s) for s in r.mappings("steps")),
            segments=r.mappings("segments"),
            duration_s=r.number("duration_s", 0.0),
            workdir=r.opt_text("workdir"),
            known=r.opt_texts("known"),
            reruns=cast("list[Summary] | None", r.opt_mappings("reruns")),
            flaky=r.opt_flag("flaky"),
            extra=r.extra(),
            missing=r.missing(*(("runtime",) if upgrade else ("from", "to"))),
        )

    def to_json(self) -> JsonObject:
        where: list[tuple[str, JsonValue]] = (
            [("from", self.producer), ("to", self.consumer)]
            if self.consumer is not None
            else [("runtime", self.runtime)]
        )
        always: list[tuple[str, JsonValue]] = [
            ("scenario", self.scenario),
            ("path", self.path),
            ("tags", list(self.tags)),
            ("params", dict(self.params)),
            ("params_id", self.params_id),
            ("case", self.case),
            *where,
            ("outcome", self.outcome.value),
            ("status", None if self.status is None else self.status.value),
            ("reason", self.reason),
            ("steps", [s.to_json() for s in self.steps]),
            ("segments", [dict(s) for s in self.segments]),
            ("duration_s", self.duration_s),
            ("workdir", self.workdir),
        ]
        optional: list[tuple[str, JsonValue]] = [
            ("producer", None if self.consumer is not None else self.producer),
            ("known", _copy(self.known)),
            ("reruns", None if self.reruns is None else [_summary(s) for s in self.reruns]),
            ("flaky", self.flaky),
        ]
        return _json(always, optional, self.missing, self.extra)


def _summary(summary: Summary) -> JsonObject:
    return cast(JsonObject, dict(summary))


@dataclass(frozen=True)
class Transition:
    """How a run's behaviour changes between two runs: adjacent releases of one line, or (for
    an upgrade) along one of the three axes. `from_`/`to` are the two releases, or for an
    upgrade the producer and consumer of the run after the change; `before_run`/`after_run`
    the labels of the two runs compared."""

    scenario: str
    params: str  # the parameter set's id
    family: str  # or `cross-family`
    line: str  # the runtime line; `A→B` for an upgrade across lines
    upgrade: bool
    from_: str
    to: str
    kind: TransitionKind
    before: Summary
    after: Summary
    axis: Axis = Axis.RELEASE
    before_run: str = ""
    after_run: str = ""
    changed: tuple[str, ...] = ()  # the signature keys that differ
    wrong_result: bool | None = None  # optional: a break (or fix) in returned values
    extra: Mapping[str, JsonValue] = field(default_factory=dict)
    missing: frozenset[str] = frozenset()

    ALWAYS = frozenset(
        {
            "scenario",
            "params",
            "family",
            "line",
            "upgrade",
            "from",
            "to",
            "axis",
            "before_run",
            "after_run",
            "kind",
            "before",
            "after",
            "changed",
        }
    )
    OPTIONAL = frozenset({"wrong_result"})

    @property
    def run_keys(self) -> tuple[RunKey, RunKey]:
        """The keys of the two runs it compares."""
        case = (self.scenario, self.params)
        return (*case, self.before_run), (*case, self.after_run)

    @classmethod
    def from_json(cls, data: Mapping[str, JsonValue]) -> Transition:
        """A transition as compat.json holds it. One written before the upgrade axes lacks
        `axis`, `before_run` and `after_run`: they read as what such a transition compared
        (an upgrade against its control), and are not written back."""
        r = _Reader(data, f"transition of {data.get('scenario')!r}", cls.ALWAYS, cls.OPTIONAL)
        upgrade = r.flag("upgrade")
        a, b = r.text("from"), r.text("to")
        before_run, after_run = (pair_label(a, a), pair_label(a, b)) if upgrade else (a, b)
        return cls(
            scenario=r.text("scenario"),
            params=r.text("params", ""),
            family=r.text("family", ""),
            line=r.text("line"),
            upgrade=upgrade,
            from_=a,
            to=b,
            kind=r.word("kind", TransitionKind),
            before=cast(Summary, r.mapping("before")),
            after=cast(Summary, r.mapping("after")),
            axis=r.word("axis", Axis, Axis.CONTROL if upgrade else Axis.RELEASE),
            before_run=r.text("before_run", before_run),
            after_run=r.text("after_run", after_run),
            changed=r.texts("changed"),
            wrong_result=r.opt_flag("wrong_result"),
            extra=r.extra(),
            missing=r.missing(),
        )

    def to_json(self) -> JsonObject:
        always: list[tuple[str, JsonValue]] = [
            ("scenario", self.scenario),
            ("params", self.params),
            ("family", self.family),
            ("line", self.line),
            ("upgrade", self.upgrade),
            ("from", self.from_),
            ("to", self.to),
            ("axis", self.axis.value),
            ("before_run", self.before_run),
            ("after_run", self.after_run),
            ("kind", self.kind.value),
            ("before", _summary(self.before)),
            ("after", _summary(self.after)),
            ("changed", list(self.changed)),
        ]
        return _json(always, [("wrong_result", self.wrong_result)], self.missing, self.extra)
