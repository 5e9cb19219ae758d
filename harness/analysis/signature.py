"""A run's signature: what must stay the same for two runs to count as the same behaviour; and
what two signatures say: the kind of the transition between them, whether it is a wrong result,
and each side as a transition shows it. Pure.

The signature holds the outcome class and the values each call returned; where a step has them,
the scenario's stated results, its cache hit or miss and what an adapter bridged; and, of the
decisive step (`harness.model.outcome.decisive`: the first of the worst outcomes other than
ok), its error kind and type, trap code, exit code, signal and normalized message.
`harness.analysis.diff` chains runs and classifies each pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypedDict, Union, cast

from harness.model.json import JsonObject, JsonValue, RecordError
from harness.model.outcome import decisive as decisive_position
from harness.model.outcome import values_equal
from harness.model.run import RunRecord, Summary
from harness.model.step import Outcome, StepResult, WasmValue
from harness.model.transition import TransitionKind

# How bad an outcome class is, for the break/fix rule; unsupported and not_run are off the scale.
_SEVERITY = {"ok": 0, "error": 1, "crash": 2, "timeout": 3}

Run = Union[RunRecord, Mapping[str, JsonValue]]  # typed, or as compat.json holds it
Values = Sequence[WasmValue]


class Signature(TypedDict, total=False):
    """What must stay the same for two runs to count as the same behaviour."""

    outcome: str
    values: list[tuple[int, Values | None]]  # (step, what it returned) of each call that did
    stated: list[tuple[int, Values]]  # (step, the scenario's results) where it states them
    cache: list[tuple[int, JsonValue]]  # (step, hit or miss) where a step states which
    adapted: list[tuple[int, Sequence[str]]]  # (step, what an adapter bridged)
    # the decisive step: the first with the worst outcome other than ok
    step: int
    op: str
    error_kind: str | None
    error_type: str | None
    trap_code: str | None
    exit_code: int | None
    signal: str | None
    message: str | None  # normalized
    trap_code_api: str


def as_run(run: Run) -> RunRecord:
    return run if isinstance(run, RunRecord) else RunRecord.from_json(run)


def _steps(run: Run) -> Sequence[StepResult]:
    """A run's steps; a JSON run may be only its steps (a search compares just those)."""
    if isinstance(run, RunRecord):
        return run.steps
    steps = run.get("steps") or []
    if not isinstance(steps, list):
        raise RecordError(f"a run's steps must be a list, got {type(steps).__name__}")
    return [StepResult.from_json(cast(JsonObject, s)) for s in steps]


def signature(run: Run, only: set[int] | None = None) -> Signature:
    """What must stay the same for two runs to count as the same behaviour; `only` limits it to
    some steps."""
    steps = [s for s in _steps(run) if only is None or s.index in only]
    position = decisive_position([s.outcome.value for s in steps])
    decisive = None if position is None else steps[position]
    values = [(s.index, s.values) for s in steps if s.op == "call" and s.outcome is Outcome.OK]
    outcome = decisive.outcome.value if decisive is not None else Outcome.OK.value
    sig: Signature = {"outcome": outcome, "values": values}
    stated = [(s.index, s.stated_results) for s in steps if s.stated_results]
    if stated:  # the same on both sides of a transition: it tells a fixed value from a wrong one
        sig["stated"] = stated
    # A cache that stops hitting is silent in every outcome, so a step that states whether
    # it should hit is compared on that too.
    cache = [
        (s.index, s.detail.get("cache"))
        for s in steps
        if s.outcome is Outcome.OK and "cache_expected" in s.detail
    ]
    if cache:
        sig["cache"] = cache
    # What an adapter bridged to perform a step (a renamed method, an added argument) is an API
    # change an application's own code would hit.
    adapted = [(s.index, s.adapted) for s in steps if s.adapted]
    if adapted:
        sig["adapted"] = adapted
    if decisive is not None:
        sig["step"], sig["op"] = decisive.index, decisive.op
        sig["error_kind"], sig["error_type"] = decisive.error_kind, decisive.error_type
        sig["trap_code"], sig["exit_code"] = decisive.trap_code, decisive.exit_code
        sig["signal"], sig["message"] = decisive.signal, decisive.normalized_message
        if decisive.trap_code_api is not None:  # as the API gave it, or how reading failed
            sig["trap_code_api"] = decisive.trap_code_api
    return sig


def classify(before: Signature, after: Signature) -> TransitionKind:
    """The transition kind between two signatures (no reruns considered)."""
    a, b = before.get("outcome"), after.get("outcome")
    if a in _SEVERITY and b in _SEVERITY and a != b:
        if b == "timeout" or (a != "timeout" and _SEVERITY[b] > _SEVERITY[a]):
            return TransitionKind.BREAK
        return TransitionKind.FIX
    if is_wrong_result(before, after):
        # a break, unless the after side now returns what the scenario states (a fixed value)
        return TransitionKind.FIX if _states(after, before) else TransitionKind.BREAK
    return TransitionKind.SAME if before == after else TransitionKind.DRIFT


def _differing(
    one: Signature, other: Signature
) -> tuple[dict[int, Values | None], dict[int, Values | None], list[int]]:
    """Each side's returned values by step, and the steps both reached whose values differ."""
    mine, theirs = dict(one.get("values") or []), dict(other.get("values") or [])
    return mine, theirs, sorted(i for i in mine.keys() & theirs.keys() if mine[i] != theirs[i])


def _states(right: Signature, wrong: Signature) -> bool:
    """Every call whose values differ returns the scenario's stated results on `right`'s side
    and not on `wrong`'s."""
    stated = dict(right.get("stated") or [])
    mine, theirs, differing = _differing(right, wrong)
    return bool(differing) and all(
        i in stated
        and values_equal(stated[i], mine[i] or [])
        and not values_equal(stated[i], theirs[i] or [])
        for i in differing
    )


def is_wrong_result(before: Signature, after: Signature) -> bool:
    """Both sides ended in the same class, but a call both got to returned other values."""
    return before.get("outcome") == after.get("outcome") and bool(_differing(before, after)[2])


_SHOWN = (
    "outcome",
    "step",
    "op",
    "error_kind",
    "trap_code",
    "trap_code_api",
    "exit_code",
    "signal",
    "message",
)


def summary_of(sig: Signature) -> Summary:
    """before/after as a transition shows them: the class and what explains it."""
    shown = {k: sig.get(k) for k in _SHOWN if sig.get(k) is not None}
    if sig.get("adapted"):
        shown["adapted"] = "; ".join(
            f"step {i + 1}: {', '.join(a)}" for i, a in sig.get("adapted") or []
        )
    if sig.get("cache"):
        shown["cache"] = ", ".join(
            f"cache {state} at step {i + 1}" for i, state in sig.get("cache") or []
        )
    return cast(Summary, shown)


def differing_values(before: Signature, after: Signature) -> tuple[str, str]:
    """`step 3 returned [42]` for each call whose values differ, on each side."""
    mine, theirs, steps = _differing(before, after)

    def shown(values: dict[int, Values | None]) -> str:
        return "; ".join(
            f"step {i + 1} returned [{', '.join(str(v.get('value')) for v in values[i] or [])}]"
            for i in steps
        )

    return shown(mine), shown(theirs)


def is_flaky(original: Run, reruns: Iterable[Run]) -> bool:
    first = signature(original)
    return any(signature(r) != first for r in reruns)
