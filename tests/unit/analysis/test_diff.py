"""The outcome diff over golden results, and its algebra."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from harness.analysis import diff
from harness.model.record import RunRecord, Transition

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "matrix_small.json"


def golden() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text())


def kinds(transitions: list[dict[str, Any]]) -> dict[tuple[str, str, str, bool], str]:
    return {(t["scenario"], t["from"], t["to"], t["upgrade"]): t["kind"] for t in transitions}


def test_golden_transitions() -> None:
    doc = golden()
    found = kinds(diff.transitions(doc["runs"], doc["runtimes"]))
    assert found == {
        ("deserialize_truncated", "wasmtime-0.20.0", "wasmtime-0.30.0", False): "fix",
        ("deserialize_truncated", "wasmtime-0.30.0", "wasmtime-27.0.2", False): "same",
        ("deserialize_truncated", "wasmtime-27.0.2", "wasmtime-50.0.1", False): "drift",
        ("features", "wasmtime-0.20.0", "wasmtime-0.30.0", False): "drift",
        ("features", "wasmtime-0.30.0", "wasmtime-27.0.2", False): "break",
        ("features", "wasmtime-27.0.2", "wasmtime-50.0.1", False): "same",
        ("hang", "wasmtime-0.30.0", "wasmtime-27.0.2", False): "break",
        ("hang", "wasmtime-27.0.2", "wasmtime-50.0.1", False): "flaky",
        ("traps", "wasmtime-0.20.0", "wasmtime-0.30.0", False): "same",
        ("traps", "wasmtime-0.30.0", "wasmtime-27.0.2", False): "same",
        ("traps", "wasmtime-27.0.2", "wasmtime-50.0.1", False): "break",
        ("upgrade_serialized", "wasmtime-27.0.2", "wasmtime-50.0.1", False): "same",
        ("upgrade_serialized", "wasmtime-27.0.2", "wasmtime-50.0.1", True): "break",
        ("upgrade_serialized", "wasmtime-50.0.1", "wasmtime-27.0.2", True): "break",
    }


def test_transition_carries_the_evidence() -> None:
    doc = golden()
    found = diff.transitions(doc["runs"], doc["runtimes"])
    trap = next(t for t in found if t["scenario"] == "traps" and t["kind"] == "break")
    assert trap["family"] == "wasmtime" and trap["params"] == ""
    assert trap["before"] == {"outcome": "ok"}
    assert trap["after"]["outcome"] == "error"
    assert trap["after"]["trap_code"] == "unreachable"
    assert trap["after"]["step"] == 1
    upgrade = next(t for t in found if t["upgrade"] and t["to"] == "wasmtime-27.0.2")
    assert upgrade["before"] == {"outcome": "ok"}
    assert upgrade["after"]["signal"] == "SIGABRT"


def test_runs_not_run_are_left_out_of_chains() -> None:
    doc = golden()
    names = {t["to"] for t in diff.transitions(doc["runs"], doc["runtimes"])}
    assert "wasmer-1.1.0-universal-cranelift" not in names


SIGS = st.fixed_dictionaries(
    {
        "outcome": st.sampled_from(["ok", "error", "crash", "timeout", "unsupported"]),
        "message": st.sampled_from([None, "a", "b"]),
        "values": st.just([]),
    }
)


SIGS_WITH_VALUES = st.fixed_dictionaries(
    {
        "outcome": st.sampled_from(["ok", "error", "crash", "timeout", "unsupported"]),
        "message": st.sampled_from([None, "a", "b"]),
        "values": st.lists(
            st.tuples(
                st.integers(0, 2), st.sampled_from([[{"type": "i32", "value": v}] for v in (1, 2)])
            ),
            max_size=3,
            unique_by=lambda item: item[0],
        ).map(lambda items: [list(i) for i in items]),
    }
)


@given(SIGS_WITH_VALUES, SIGS_WITH_VALUES)
def test_classify_mirrors(a: dict[str, Any], b: dict[str, Any]) -> None:
    forward, backward = diff.classify(a, b), diff.classify(b, a)
    # a wrong result is a break both ways: neither side is known to be the right one
    wrong = diff.is_wrong_result(a, b)
    mirror = {
        "break": "break" if wrong else "fix",
        "fix": "break",
        "drift": "drift",
        "same": "same",
    }
    assert backward == mirror[forward]
    assert forward != backward or forward in ("drift", "same") or wrong


def test_a_different_value_with_the_same_outcome_is_a_wrong_result_break() -> None:
    forty, fifty = (
        {"outcome": "ok", "values": [[2, [{"type": "i32", "value": v}]]]} for v in (40, 50)
    )
    assert diff.classify(forty, fifty) == diff.classify(fifty, forty) == "break"
    doc = golden()
    (t,) = [
        t
        for t in diff.transitions(doc["runs"], doc["runtimes"])
        if t["scenario"] == "features" and t["kind"] == "break"
    ]
    assert diff.break_class(t) == "wrong result"
    assert t["after"]["values"] == "step 2 returned [50]"


@given(SIGS)
def test_a_run_is_the_same_as_itself(a: dict[str, Any]) -> None:
    assert diff.classify(a, a) == "same"


def test_the_break_rules() -> None:
    def kind(a: str, b: str) -> str:
        return diff.classify({"outcome": a}, {"outcome": b})

    assert [kind("ok", x) for x in ("error", "crash", "timeout")] == ["break"] * 3
    assert kind("error", "crash") == "break"
    assert kind("crash", "timeout") == "break"
    assert kind("timeout", "crash") == "fix"
    assert kind("crash", "error") == "fix"
    assert kind("ok", "unsupported") == "drift"


@given(st.randoms(use_true_random=False))
def test_transitions_do_not_depend_on_finishing_order(rnd: random.Random) -> None:
    doc = golden()
    expected = diff.transitions(doc["runs"], doc["runtimes"])
    shuffled = list(doc["runs"])
    rnd.shuffle(shuffled)
    assert diff.transitions(shuffled, doc["runtimes"]) == expected


def test_reruns_are_asked_for_both_sides_of_a_change() -> None:
    doc = golden()
    wanted = diff.needs_rerun(diff.transitions(doc["runs"], doc["runtimes"]))
    assert ("traps", "", "wasmtime-27.0.2") in wanted
    assert ("traps", "", "wasmtime-50.0.1") in wanted
    assert ("traps", "", "wasmtime-0.20.0") not in wanted
    assert ("upgrade_serialized", "", "wasmtime-50.0.1→wasmtime-27.0.2") in wanted
    assert ("upgrade_serialized", "", "wasmtime-50.0.1→wasmtime-50.0.1") in wanted


def test_a_run_that_changes_when_rerun_is_flaky() -> None:
    doc = golden()
    ok = next(r for r in doc["runs"] if r["scenario"] == "traps")
    trapped = next(r for r in doc["runs"] if r["scenario"] == "traps" and r["outcome"] == "error")
    assert diff.is_flaky(ok, [ok, trapped])
    assert not diff.is_flaky(ok, [ok, ok])


def test_wasmer_engines_continue_their_line_across_the_rename() -> None:
    runtimes = [
        {"name": "wasmer-1.0.0-jit-llvm"},
        {"name": "wasmer-1.1.0-universal-llvm"},
        {"name": "wasmer-1.1.0-dylib-llvm"},
    ]
    runs = [
        {"scenario": "s", "params_id": "", "runtime": r["name"], "outcome": "ok", "steps": []}
        for r in runtimes
    ]
    found = diff.transitions(runs, runtimes)
    assert [(t["from"], t["to"]) for t in found] == [
        ("wasmer-1.0.0-jit-llvm", "wasmer-1.1.0-universal-llvm")
    ]


def test_only_the_steps_both_runs_reached_are_compared() -> None:
    def step(i: int, outcome: str, values: int | None = None, **kw: object) -> dict[str, Any]:
        got = [{"type": "i32", "value": values}] if values is not None else None
        return {"index": i, "op": "call", "outcome": outcome, "values": got, **kw}

    runtimes = [
        {"name": "wasmer-1.0.0-jit-singlepass"},
        {"name": "wasmer-1.1.0-universal-singlepass"},
    ]
    # 1.0 returns a wrong value, misses the expectation and stops; 1.1 goes on to an expected trap
    old = [step(0, "ok", 0), step(1, "not_run")]
    new = [step(0, "ok", 15), step(1, "error", error_kind="trap", trap_code="host")]
    runs = [
        {
            "scenario": "s",
            "params_id": "",
            "runtime": runtimes[0]["name"],
            "outcome": "ok",
            "steps": old,
        },
        {
            "scenario": "s",
            "params_id": "",
            "runtime": runtimes[1]["name"],
            "outcome": "error",
            "steps": new,
        },
    ]
    (t,) = diff.transitions(runs, runtimes)
    assert t["kind"] == "break" and t["wrong_result"]  # same class, other values: wrong result
    assert (t["before"]["values"], t["after"]["values"]) == (
        "step 1 returned [0]",
        "step 1 returned [15]",
    )
    crashed = [*new, {"index": -1, "op": "teardown", "outcome": "crash", "signal": "SIGSEGV"}]
    runs[1]["steps"] = crashed
    (t,) = diff.transitions(runs, runtimes)
    assert t["kind"] == "break" and t["after"]["signal"] == "SIGSEGV"


def test_a_cache_that_stops_hitting_is_drift_only_where_a_step_states_it() -> None:
    def compile_step(state: str, stated: bool) -> dict[str, Any]:
        detail: dict[str, Any] = {"cache": state}
        if stated:
            detail["cache_expected"] = "hit"
        return {"index": 2, "op": "compile", "outcome": "ok", "detail": detail}

    hit, miss = (
        diff.signature({"steps": [compile_step("hit", True)]}),
        diff.signature({"steps": [compile_step("miss", True)]}),
    )
    assert diff.classify(hit, miss) == "drift"
    assert diff.summary_of(miss)["cache"] == "cache miss at step 3"
    # an upgrade's consumer missing the producer's entries is by design when nothing is stated
    unstated = [diff.signature({"steps": [compile_step(s, False)]}) for s in ("hit", "miss")]
    assert diff.classify(*unstated) == "same"


def _upgrade_run(producer: str, consumer: str, outcome: str, message: str = "") -> dict[str, Any]:
    steps = [{"index": 0, "op": "deserialize", "outcome": outcome, "normalized_message": message}]
    return {
        "scenario": "u",
        "params_id": "",
        "from": producer,
        "to": consumer,
        "outcome": outcome,
        "steps": steps,
    }


def test_a_consumer_side_change_for_the_same_artifact_is_a_transition() -> None:
    names = ["wasmtime-39.0.0", "wasmtime-41.0.0", "wasmtime-42.0.0"]
    runtimes = [{"name": n} for n in names]
    old, new = "incompatible Wasmtime version", "incompatible version"
    runs = [_upgrade_run(n, n, "ok") for n in names] + [
        _upgrade_run("wasmtime-39.0.0", "wasmtime-41.0.0", "error", old),
        _upgrade_run("wasmtime-39.0.0", "wasmtime-42.0.0", "error", new),
        _upgrade_run("wasmtime-41.0.0", "wasmtime-42.0.0", "error", new),
    ]
    found = diff.transitions(runs, runtimes)
    by_axis = {(t["axis"], t["before_run"], t["after_run"]): t["kind"] for t in found}
    # the control axis alone sees only ok → error, the same at every pair
    assert (
        by_axis[("control", "wasmtime-39.0.0→wasmtime-39.0.0", "wasmtime-39.0.0→wasmtime-42.0.0")]
        == "break"
    )
    # one producer's artifact, the next consumer release: its message changed
    consumer = by_axis[
        ("consumer", "wasmtime-39.0.0→wasmtime-41.0.0", "wasmtime-39.0.0→wasmtime-42.0.0")
    ]
    assert consumer == "drift"
    # one consumer, the next producer release: the same refusal
    producer = by_axis[
        ("producer", "wasmtime-39.0.0→wasmtime-42.0.0", "wasmtime-41.0.0→wasmtime-42.0.0")
    ]
    assert producer == "same"
    # the diagonal stays out of the side axes
    sides = [t for t in found if t["axis"] in ("consumer", "producer")]
    assert all(len(set(t["before_run"].split("→"))) == 2 for t in sides)
    t = next(t for t in found if t["axis"] == "consumer")
    assert (t["from"], t["to"]) == ("wasmtime-39.0.0", "wasmtime-42.0.0")  # the after run's pair
    assert diff.needs_rerun([t]) == {
        ("u", "", "wasmtime-39.0.0→wasmtime-41.0.0"),
        ("u", "", "wasmtime-39.0.0→wasmtime-42.0.0"),
    }


def test_a_value_that_returns_to_the_stated_one_is_a_fix_and_leaving_it_a_break() -> None:
    stated = [[2, [{"type": None, "value": 42}]]]
    forty, fortytwo = (
        {"outcome": "ok", "values": [[2, [{"type": "i32", "value": v}]]], "stated": stated}
        for v in (40, 42)
    )
    assert diff.classify(forty, fortytwo) == "fix"
    assert diff.classify(fortytwo, forty) == "break"
    assert diff.is_wrong_result(fortytwo, forty)


def test_typed_runs_give_the_transitions_compat_json_holds() -> None:
    doc = golden()
    runs = [RunRecord.from_json(r) for r in doc["runs"]]
    typed = diff.compare(runs, diff.runtime_specs(doc["runtimes"]))
    assert all(isinstance(t, Transition) for t in typed)
    assert [t.to_json() for t in typed] == diff.transitions(doc["runs"], doc["runtimes"])
    # the runs a change asks to rerun are named by the runs' own keys
    keys = {r.key for r in runs}
    assert diff.needs_rerun(typed) <= keys
    assert diff.needs_rerun(typed) == diff.needs_rerun(t.to_json() for t in typed)


def test_a_crash_after_a_failed_step_is_what_the_run_is_judged_by() -> None:
    """wazero 1.7: instantiate fails, and the deferred close panics on what it returned."""

    def step(index: int, op: str, outcome: str, **fields: Any) -> dict[str, Any]:
        return {"index": index, "op": op, "outcome": outcome, "met": outcome == "ok", **fields}

    ok = {"steps": [step(0, "instantiate", "ok"), step(1, "close", "ok")]}
    failed = step(0, "instantiate", "error", message="source module must be compiled")
    not_run = step(1, "call", "not_run")
    panicked = step(2, "close", "crash", exit_code=2, message="panic: nil pointer dereference")
    crashed = {"steps": [failed, not_run, panicked]}
    error_only = {"steps": [failed, not_run, step(2, "close", "ok")]}
    sig = diff.signature(crashed)
    assert (sig["outcome"], sig["op"], sig["exit_code"]) == ("crash", "close", 2)
    assert diff.classify(diff.signature(ok), sig) == "break"
    assert diff.classify(sig, diff.signature(error_only)) == "fix"
