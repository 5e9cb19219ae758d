"""A run as a typed record: a scenario (with one parameter set) on one runtime, or an upgrade
run. Stdlib only, Python 3.9 (the worker imports this package). Its JSON is read and written as
`harness.model.json` describes.

A run's key `(scenario, params_id, label)` and its label (`runtime`, or `A→B` for an upgrade)
are computed here and nowhere else: `RunRecord.key` / `.label`, and `run_key` / `run_label` for
code that still holds the JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict, cast

from harness.model.json import (
    JsonObject,
    JsonValue,
    Reader,
    RecordError,
    Word,
    json_list,
    json_object,
)
from harness.model.step import Outcome, StepResult

RunKey = tuple[str, str, str]  # (scenario, params_id, run label)

UPGRADE_ARROW = "→"  # in a run label: produced on the left, consumed on the right


class Status(Word):
    """Whether a run met its scenario's expectations."""

    PASS = "pass"
    FAIL = "fail"
    UNSUPPORTED = "unsupported"
    NOT_RUN = "not_run"


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
        r = Reader(data, f"run of {data.get('scenario')!r}", cls.ALWAYS, cls.OPTIONAL)
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
            ("known", json_list(self.known)),
            ("reruns", None if self.reruns is None else [summary_json(s) for s in self.reruns]),
            ("flaky", self.flaky),
        ]
        return json_object(always, optional, self.missing, self.extra)


def summary_json(summary: Summary) -> JsonObject:
    return cast(JsonObject, dict(summary))
