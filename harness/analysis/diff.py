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
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from harness.model.outcome import values_equal
from harness.plan.matrix import RuntimeSpec, parse_runtime_name, version_key

BREAK, FIX, DRIFT, FLAKY, SAME = "break", "fix", "drift", "flaky", "same"
KINDS = (BREAK, FIX, DRIFT, FLAKY, SAME)
WRONG_RESULT = "wrong result"  # a break whose two sides end alike but return other values
# the axes a transition runs along: adjacent releases, or one of an upgrade diff's three
RELEASE, CONTROL, CONSUMER, PRODUCER = "release", "control", "consumer", "producer"

# How bad an outcome class is, for the break/fix rule; unsupported and not_run are off the scale.
_SEVERITY = {"ok": 0, "error": 1, "crash": 2, "timeout": 3}

Run = dict[str, Any]
Transition = dict[str, Any]


def signature(run: Run, only: set[int] | None = None) -> dict[str, Any]:
    """What must stay the same for two runs to count as the same behaviour; `only` limits it to
    some steps."""
    steps = [s for s in run.get("steps") or [] if only is None or s.get("index") in only]
    decisive = next((s for s in steps if s.get("outcome") not in ("ok", "not_run")), None)
    values = [
        [s["index"], s.get("values")]
        for s in steps
        if s.get("op") == "call" and s.get("outcome") == "ok"
    ]
    outcome = decisive.get("outcome") if decisive is not None else "ok"
    sig: dict[str, Any] = {"outcome": outcome, "values": values}
    stated = [[s["index"], s["stated_results"]] for s in steps if s.get("stated_results")]
    if stated:  # the same on both sides of a transition: it tells a fixed value from a wrong one
        sig["stated"] = stated
    # A cache that stops hitting is silent in every outcome, so a step that states whether
    # it should hit is compared on that too.
    cache = [
        [s["index"], s["detail"].get("cache")]
        for s in steps
        if s.get("outcome") == "ok" and "cache_expected" in (s.get("detail") or {})
    ]
    if cache:
        sig["cache"] = cache
    # What an adapter bridged to perform a step (a renamed method, an added argument) is an API
    # change an application's own code would hit.
    adapted = [[s["index"], s["adapted"]] for s in steps if s.get("adapted")]
    if adapted:
        sig["adapted"] = adapted
    if decisive is not None:
        sig.update(
            step=decisive.get("index"),
            op=decisive.get("op"),
            error_kind=decisive.get("error_kind"),
            error_type=decisive.get("error_type"),
            trap_code=decisive.get("trap_code"),
            exit_code=decisive.get("exit_code"),
            signal=decisive.get("signal"),
            message=decisive.get("normalized_message"),
        )
        if decisive.get("trap_code_api") is not None:  # as the API gave it, or how reading failed
            sig["trap_code_api"] = decisive["trap_code_api"]
    return sig


def classify(before: dict[str, Any], after: dict[str, Any]) -> str:
    """The transition kind between two signatures (no reruns considered)."""
    a, b = before.get("outcome"), after.get("outcome")
    if a in _SEVERITY and b in _SEVERITY and a != b:
        if b == "timeout" or (a != "timeout" and _SEVERITY[b] > _SEVERITY[a]):
            return BREAK
        return FIX
    if is_wrong_result(before, after):
        # a break, unless the after side now returns what the scenario states (a fixed value)
        return FIX if _states(after, before) else BREAK
    return SAME if before == after else DRIFT


def _states(right: dict[str, Any], wrong: dict[str, Any]) -> bool:
    """Every call whose values differ returns the scenario's stated results on `right`'s side
    and not on `wrong`'s."""
    stated = dict(right.get("stated") or [])
    mine, theirs = dict(right.get("values") or []), dict(wrong.get("values") or [])
    differing = [i for i in mine.keys() & theirs.keys() if mine[i] != theirs[i]]
    return bool(differing) and all(
        i in stated
        and values_equal(stated[i], mine[i] or [])
        and not values_equal(stated[i], theirs[i] or [])
        for i in differing
    )


def is_wrong_result(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Both sides ended in the same class, but a call both got to returned other values."""
    if before.get("outcome") != after.get("outcome"):
        return False
    mine, theirs = dict(before.get("values") or []), dict(after.get("values") or [])
    return any(mine[i] != theirs[i] for i in mine.keys() & theirs.keys())


def summary_of(sig: dict[str, Any]) -> dict[str, Any]:
    """before/after as a transition shows them: the class and what explains it."""
    keep = (
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
    shown = {k: sig[k] for k in keep if sig.get(k) is not None}
    if sig.get("adapted"):
        shown["adapted"] = "; ".join(f"step {i + 1}: {', '.join(a)}" for i, a in sig["adapted"])
    if sig.get("cache"):
        shown["cache"] = ", ".join(f"cache {state} at step {i + 1}" for i, state in sig["cache"])
    return shown


def runtime_specs(runtimes: Iterable[dict[str, Any]]) -> dict[str, RuntimeSpec]:
    """Specs by runtime name; a runtime named outside the convention (a bare interpreter run)
    is described by its reported family and version."""
    specs: dict[str, RuntimeSpec] = {}
    for r in runtimes:
        try:
            specs[r["name"]] = parse_runtime_name(r["name"])
        except ValueError:
            if r.get("family") and r.get("version"):
                specs[r["name"]] = RuntimeSpec(
                    r["name"], r["family"], r["version"], r.get("variant") or ""
                )
    return specs


def _key(run: Run) -> tuple[str, str]:
    return (run["scenario"], run.get("params_id") or "")


def transitions(runs: Sequence[Run], runtimes: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every adjacent-release transition and every upgrade transition, in a canonical order
    (independent of the order the runs finished in)."""
    specs = runtime_specs(runtimes)
    found = _release_transitions(runs, specs) + _upgrade_transitions(runs, specs)
    return sorted(found, key=lambda t: _transition_order(t, specs))


def _release_transitions(runs: Sequence[Run], specs: dict[str, RuntimeSpec]) -> list[Transition]:
    chains: dict[tuple[str, str, str], list[tuple[RuntimeSpec, Run]]] = {}
    for run in runs:
        spec = specs.get(_single_runtime(run) or "")
        if spec is None or not _comparable(run):
            continue
        chains.setdefault((*_key(run), spec.line), []).append((spec, run))
    found = []
    for (_, _, line), chain in chains.items():
        chain.sort(key=lambda item: item[0].sort_key)
        for (spec_a, run_a), (spec_b, run_b) in zip(chain, chain[1:]):
            found.append(_transition(run_a, run_b, spec_a, spec_b, line, upgrade=False))
    return found


def _comparable(run: Run) -> bool:
    """A run that happened, and whose every step the runtime decided: a harness error is a bug
    in wasm-compat (the gate exits 3), never a runtime's behaviour."""
    if run.get("outcome") == "not_run":
        return False
    return not any(s.get("error_kind") == "harness" for s in run.get("steps") or [])


def _single_runtime(run: Run) -> str | None:
    """The runtime of a run on one runtime; an upgrade control A→A counts as a run on A."""
    if "runtime" in run:
        return str(run["runtime"])
    return str(run["from"]) if run.get("from") == run.get("to") else None


def _upgrade_transitions(runs: Sequence[Run], specs: dict[str, RuntimeSpec]) -> list[Transition]:
    upgrades = [
        r
        for r in runs
        if "from" in r and _comparable(r) and r["from"] in specs and r["to"] in specs
    ]
    controls = {(*_key(r), r["from"]): r for r in upgrades if r["from"] == r["to"]}
    found = []
    for run in upgrades:
        control = controls.get((*_key(run), run["from"]))
        if run["from"] != run["to"] and control is not None:
            found.append(_upgrade_transition(control, run, specs, CONTROL))
    crossing = [r for r in upgrades if r["from"] != r["to"]]
    for axis, fixed, varying in ((CONSUMER, "from", "to"), (PRODUCER, "to", "from")):
        chains: dict[tuple[str, str, str, str], list[Run]] = {}
        for run in crossing:
            group = (*_key(run), run[fixed], specs[run[varying]].line)
            chains.setdefault(group, []).append(run)
        for chain in chains.values():
            chain.sort(key=lambda r: specs[r[varying]].sort_key)
            found += [_upgrade_transition(a, b, specs, axis) for a, b in zip(chain, chain[1:])]
    return found


def _upgrade_transition(
    run_a: Run, run_b: Run, specs: dict[str, RuntimeSpec], axis: str
) -> Transition:
    """`from` and `to` name the producer and consumer of the run after the change, so that a
    baseline entry's globs accept it on every axis alike."""
    producer, consumer = specs[run_b["from"]], specs[run_b["to"]]
    line = producer.line if producer.line == consumer.line else f"{producer.line}→{consumer.line}"
    found = _transition(run_a, run_b, producer, consumer, line, upgrade=True)
    found["axis"] = axis
    return found


def _transition(
    run_a: Run, run_b: Run, spec_a: RuntimeSpec, spec_b: RuntimeSpec, line: str, upgrade: bool
) -> dict[str, Any]:
    # Compare the steps both runs got to: a run stopped early by a missed expectation (say, a
    # wrong value) is not "ok" just because its later steps never ran.
    both = _ran(run_a) & _ran(run_b) | {-1}  # -1: the process died after its last step
    before, after = signature(run_a, both), signature(run_b, both)
    kind = FLAKY if run_a.get("flaky") or run_b.get("flaky") else classify(before, after)
    found = {
        "scenario": run_a["scenario"],
        "params": run_a.get("params_id") or "",
        "family": spec_a.family if spec_a.family == spec_b.family else "cross-family",
        "line": line,
        "upgrade": upgrade,
        "from": spec_a.name,
        "to": spec_b.name,
        "axis": RELEASE,
        "before_run": run_label(run_a),
        "after_run": run_label(run_b),
        "kind": kind,
        "before": summary_of(before),
        "after": summary_of(after),
        "changed": sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k)),
    }
    if kind in (BREAK, FIX) and is_wrong_result(before, after):
        found["wrong_result"] = kind == BREAK  # a fix returns the stated values again
        found["before"]["values"], found["after"]["values"] = _differing_values(before, after)
    return found


def _differing_values(before: dict[str, Any], after: dict[str, Any]) -> tuple[str, str]:
    """`step 3 returned [42]` for each call whose values differ, on each side."""
    mine, theirs = dict(before.get("values") or []), dict(after.get("values") or [])
    steps = sorted(i for i in mine.keys() & theirs.keys() if mine[i] != theirs[i])

    def shown(values: dict[int, Any]) -> str:
        return "; ".join(
            f"step {i + 1} returned [{', '.join(str(v.get('value')) for v in values[i] or [])}]"
            for i in steps
        )

    return shown(mine), shown(theirs)


def break_class(t: Transition) -> str | None:
    """What a break broke into: the after side's outcome class, or `wrong result`."""
    if t["kind"] != BREAK:
        return None
    return WRONG_RESULT if t.get("wrong_result") else str(t["after"].get("outcome"))


def _ran(run: Run) -> set[int]:
    return {s["index"] for s in run.get("steps") or [] if s.get("outcome") != "not_run"}


def _transition_order(t: dict[str, Any], specs: dict[str, RuntimeSpec]) -> tuple[Any, ...]:
    def where(name: str) -> tuple[Any, ...]:
        spec = specs.get(name)
        return spec.sort_key if spec else (99, version_key("0"), name)

    axis = (RELEASE, CONTROL, CONSUMER, PRODUCER).index(t.get("axis", RELEASE))
    return (
        t["scenario"],
        t["params"],
        t["upgrade"],
        axis,
        t["line"],
        where(t["from"]),
        where(t["to"]),
        t.get("before_run", ""),
    )


def needs_rerun(transition_list: Iterable[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """(scenario, params, run label) of every run on either side of a non-same transition."""
    wanted: set[tuple[str, str, str]] = set()
    for t in transition_list:
        if t["kind"] == SAME:
            continue
        wanted.add((t["scenario"], t["params"], t["before_run"]))
        wanted.add((t["scenario"], t["params"], t["after_run"]))
    return wanted


def run_label(run: Run) -> str:
    """The runtime a run ran on, or `A→B` for an upgrade run."""
    return f"{run['from']}→{run['to']}" if "from" in run else str(run.get("runtime"))


def is_flaky(original: Run, reruns: Iterable[Run]) -> bool:
    first = signature(original)
    return any(signature(r) != first for r in reruns)


def count(transition_list: Iterable[dict[str, Any]]) -> dict[str, int]:
    totals = dict.fromkeys(KINDS, 0)
    for t in transition_list:
        totals[t["kind"]] += 1
    return totals
