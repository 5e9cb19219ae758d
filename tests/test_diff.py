"""The outcome diff over golden results, and its algebra."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from harness import diff

GOLDEN = Path(__file__).parent / "golden" / "matrix_small.json"


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
        ("features", "wasmtime-0.30.0", "wasmtime-27.0.2", False): "drift",
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


@given(SIGS, SIGS)
def test_classify_mirrors(a: dict[str, Any], b: dict[str, Any]) -> None:
    forward, backward = diff.classify(a, b), diff.classify(b, a)
    mirror = {"break": "fix", "fix": "break", "drift": "drift", "same": "same"}
    assert backward == mirror[forward]
    assert forward != backward or forward in ("drift", "same")


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
    assert t["kind"] == "drift"  # the values changed; nothing broke
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
