"""The outcome diff: how a run's outcome changes from one runtime to the next. Pure.

Runs of one scenario and parameter set are chained per runtime line (a family; for wasmer one
engine lineage and compiler) in version order, and each adjacent pair is classified:

    break   ok→error, ok→crash, error→crash, anything→timeout; or, with the same class,
            different returned values: a wrong result, the worst break there is
    fix     the reverse of an outcome break
    drift   same class, different signature (step, error kind/type, trap code, exit code,
            signal, normalized message, what an adapter bridged, cache hit or miss); or a step
            one side cannot express
    flaky   either side changed when rerun
    same    identical signatures

An upgrade run (produce on A, restart, consume on B) is compared along three axes:
    control   with its control A→A: before the upgrade the application saw A→A, after it A→B
    consumer  for one producer A, its runs A→B chained over the consumers B in version order:
              the same artifact handed to the next consumer release
    producer  for one consumer B, its runs A→B chained over the producers A in version order
The diagonal (A→A) stays out of the consumer and producer chains: it is the control axis's.

What is compared of a run, and how a pair of them is classified, is `harness.analysis.signature`'s
(its names are importable from here too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple, Union

from harness.analysis.signature import (
    Run,
    Signature,
    Values,
    as_run,
    classify,
    differing_values,
    is_flaky,
    is_wrong_result,
    signature,
    summary_of,
)
from harness.model.json import JsonObject, JsonValue
from harness.model.run import RunKey, RunRecord
from harness.model.step import Outcome
from harness.model.transition import Axis, Transition, TransitionKind
from harness.plan.matrix import RuntimeSpec, parse_runtime_name, version_key

__all__ = [  # its own names, and the signature's it has always offered
    "BREAK",
    "CONSUMER",
    "CONTROL",
    "DRIFT",
    "FIX",
    "FLAKY",
    "KINDS",
    "PRODUCER",
    "RELEASE",
    "SAME",
    "WRONG_RESULT",
    "AnyTransition",
    "Run",
    "Signature",
    "Values",
    "as_run",
    "as_transition",
    "break_class",
    "classify",
    "compare",
    "count",
    "is_flaky",
    "is_wrong_result",
    "needs_rerun",
    "runtime_specs",
    "signature",
    "summary_of",
    "transitions",
]


# The words as compat.json holds them (TransitionKind and Axis are the typed forms).
BREAK, FIX, DRIFT, FLAKY, SAME = (k.value for k in TransitionKind)
KINDS = (BREAK, FIX, DRIFT, FLAKY, SAME)
WRONG_RESULT = "wrong result"  # a break whose two sides end alike but return other values
# the axes a transition runs along: adjacent releases, or one of an upgrade diff's three
RELEASE, CONTROL, CONSUMER, PRODUCER = (a.value for a in Axis)

AnyTransition = Union[Transition, Mapping[str, JsonValue]]


def as_transition(t: AnyTransition) -> Transition:
    return t if isinstance(t, Transition) else Transition.from_json(t)


def runtime_specs(runtimes: Iterable[Mapping[str, JsonValue]]) -> dict[str, RuntimeSpec]:
    """Specs by runtime name; a runtime named outside the convention (a bare interpreter run)
    is described by its reported family and version."""
    specs: dict[str, RuntimeSpec] = {}
    for r in runtimes:
        name = str(r["name"])
        try:
            specs[name] = parse_runtime_name(name)
        except ValueError:
            if r.get("family") and r.get("version"):
                family, version = str(r["family"]), str(r["version"])
                specs[name] = RuntimeSpec(name, family, version, str(r.get("variant") or ""))
    return specs


def transitions(
    runs: Sequence[Run], runtimes: Iterable[Mapping[str, JsonValue]]
) -> list[JsonObject]:
    """Every adjacent-release transition and every upgrade transition, in a canonical order
    (independent of the order the runs finished in), as compat.json holds them."""
    happened = [as_run(r) for r in runs if _happened(r)]  # the rest would be read to be skipped
    return [t.to_json() for t in compare(happened, runtime_specs(runtimes))]


def _happened(run: Run) -> bool:
    if isinstance(run, RunRecord):
        return run.outcome is not Outcome.NOT_RUN
    return run.get("outcome") != Outcome.NOT_RUN.value


def compare(runs: Sequence[RunRecord], specs: Mapping[str, RuntimeSpec]) -> list[Transition]:
    """`transitions` on typed runs, with the runtimes' specs by name."""
    found = _release_transitions(runs, specs) + _upgrade_transitions(runs, specs)
    return sorted(found, key=lambda t: _transition_order(t, specs))


def _release_transitions(
    runs: Sequence[RunRecord], specs: Mapping[str, RuntimeSpec]
) -> list[Transition]:
    chains: dict[tuple[str, str, str], list[tuple[RuntimeSpec, RunRecord]]] = {}
    for run in runs:
        spec = specs.get(_single_runtime(run) or "")
        if spec is None or not _comparable(run):
            continue
        chains.setdefault((run.scenario, run.params_id, spec.line), []).append((spec, run))
    found = []
    for (_, _, line), chain in chains.items():
        chain.sort(key=lambda item: item[0].sort_key)
        for (spec_a, run_a), (spec_b, run_b) in zip(chain, chain[1:]):
            found.append(_transition(run_a, run_b, spec_a, spec_b, line, upgrade=False))
    return found


def _comparable(run: RunRecord) -> bool:
    """A run that happened, and whose every step the runtime decided: a harness error is a bug
    in wasm-compat (the gate exits 3), never a runtime's behaviour."""
    if run.outcome is Outcome.NOT_RUN:
        return False
    return not any(s.error_kind == "harness" for s in run.steps)


def _single_runtime(run: RunRecord) -> str | None:
    """The runtime of a run on one runtime; an upgrade control A→A counts as a run on A."""
    if not run.is_upgrade:
        return run.runtime
    return run.producer if run.is_control else None


class _Upgrade(NamedTuple):
    """An upgrade run with its producer and consumer, both runtimes the diff knows."""

    run: RunRecord
    producer: str
    consumer: str


def _upgrade_transitions(
    runs: Sequence[RunRecord], specs: Mapping[str, RuntimeSpec]
) -> list[Transition]:
    upgrades = [
        _Upgrade(r, r.producer, r.consumer)
        for r in runs
        if r.producer is not None and r.consumer is not None and _comparable(r)
        if r.producer in specs and r.consumer in specs
    ]
    controls = {
        (u.run.scenario, u.run.params_id, u.producer): u for u in upgrades if u.run.is_control
    }
    found = []
    for u in upgrades:
        control = controls.get((u.run.scenario, u.run.params_id, u.producer))
        if not u.run.is_control and control is not None:
            found.append(_upgrade_transition(control, u, specs, Axis.CONTROL))
    crossing = [u for u in upgrades if not u.run.is_control]
    for axis, fixed_producer in ((Axis.CONSUMER, True), (Axis.PRODUCER, False)):
        chains: dict[tuple[str, str, str, str], list[_Upgrade]] = {}
        for u in crossing:
            fixed, varying = (
                (u.producer, u.consumer) if fixed_producer else (u.consumer, u.producer)
            )
            group = (u.run.scenario, u.run.params_id, fixed, specs[varying].line)
            chains.setdefault(group, []).append(u)
        for chain in chains.values():
            chain.sort(key=lambda u: specs[u.consumer if fixed_producer else u.producer].sort_key)
            found += [_upgrade_transition(a, b, specs, axis) for a, b in zip(chain, chain[1:])]
    return found


def _upgrade_transition(
    a: _Upgrade, b: _Upgrade, specs: Mapping[str, RuntimeSpec], axis: Axis
) -> Transition:
    """`from` and `to` name the producer and consumer of the run after the change, so that a
    baseline entry's globs accept it on every axis alike."""
    producer, consumer = specs[b.producer], specs[b.consumer]
    line = producer.line if producer.line == consumer.line else f"{producer.line}→{consumer.line}"
    return _transition(a.run, b.run, producer, consumer, line, upgrade=True, axis=axis)


def _transition(
    run_a: RunRecord,
    run_b: RunRecord,
    spec_a: RuntimeSpec,
    spec_b: RuntimeSpec,
    line: str,
    upgrade: bool,
    axis: Axis = Axis.RELEASE,
) -> Transition:
    # Compare the steps both runs got to: a run stopped early by a missed expectation (say, a
    # wrong value) is not "ok" just because its later steps never ran.
    both = _ran(run_a) & _ran(run_b) | {-1}  # -1: the process died after its last step
    before, after = signature(run_a, both), signature(run_b, both)
    flaky = run_a.flaky or run_b.flaky
    kind = TransitionKind.FLAKY if flaky else classify(before, after)
    shown_before, shown_after = summary_of(before), summary_of(after)
    wrong_result = None
    if kind in (TransitionKind.BREAK, TransitionKind.FIX) and is_wrong_result(before, after):
        wrong_result = kind is TransitionKind.BREAK  # a fix returns the stated values again
        shown_before["values"], shown_after["values"] = differing_values(before, after)
    return Transition(
        scenario=run_a.scenario,
        params=run_a.params_id,
        family=spec_a.family if spec_a.family == spec_b.family else "cross-family",
        line=line,
        upgrade=upgrade,
        from_=spec_a.name,
        to=spec_b.name,
        axis=axis,
        before_run=run_a.label,
        after_run=run_b.label,
        kind=kind,
        before=shown_before,
        after=shown_after,
        changed=tuple(
            sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        ),
        wrong_result=wrong_result,
    )


def break_class(t: AnyTransition) -> str | None:
    """What a break broke into: the after side's outcome class, or `wrong result`."""
    t = as_transition(t)
    if t.kind is not TransitionKind.BREAK:
        return None
    return WRONG_RESULT if t.wrong_result else str(t.after.get("outcome"))


def _ran(run: RunRecord) -> set[int]:
    return {s.index for s in run.steps if s.outcome is not Outcome.NOT_RUN}


_AXES = tuple(Axis)
_Where = tuple[int, tuple[tuple[int, str], ...], str]


def _transition_order(
    t: Transition, specs: Mapping[str, RuntimeSpec]
) -> tuple[str, str, bool, int, str, _Where, _Where, str]:
    def where(name: str) -> _Where:
        spec = specs.get(name)
        return spec.sort_key if spec else (99, version_key("0"), name)

    return (
        t.scenario,
        t.params,
        t.upgrade,
        _AXES.index(t.axis),
        t.line,
        where(t.from_),
        where(t.to),
        t.before_run,
    )


def needs_rerun(transition_list: Iterable[AnyTransition]) -> set[RunKey]:
    """The key of every run on either side of a non-same transition."""
    wanted: set[RunKey] = set()
    for t in map(as_transition, transition_list):
        if t.kind is not TransitionKind.SAME:
            wanted.update(t.run_keys)
    return wanted


def count(transition_list: Iterable[AnyTransition]) -> dict[str, int]:
    totals = dict.fromkeys(KINDS, 0)
    for t in map(as_transition, transition_list):
        totals[t.kind.value] += 1
    return totals
