"""A transition as a typed record: how a run's behaviour changes between two runs. Stdlib
only, Python 3.9 (the worker imports this package). Its JSON is read and written as
`harness.model.json` describes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from harness.model.json import JsonObject, JsonValue, Reader, Word, json_object
from harness.model.run import RunKey, Summary, pair_label, summary_json


class TransitionKind(Word):
    BREAK = "break"
    FIX = "fix"
    DRIFT = "drift"
    FLAKY = "flaky"
    SAME = "same"


class Axis(Word):
    """What a transition compares: adjacent releases, or one of an upgrade diff's three axes."""

    RELEASE = "release"
    CONTROL = "control"
    CONSUMER = "consumer"
    PRODUCER = "producer"


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
        r = Reader(data, f"transition of {data.get('scenario')!r}", cls.ALWAYS, cls.OPTIONAL)
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
            ("before", summary_json(self.before)),
            ("after", summary_json(self.after)),
            ("changed", list(self.changed)),
        ]
        return json_object(always, [("wrong_result", self.wrong_result)], self.missing, self.extra)
