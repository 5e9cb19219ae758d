"""Expectation matching, pure."""

from __future__ import annotations

from typing import Any

import pytest

from harness.model.outcome import check, decisive, new_result, values_equal


def result(**fields: Any) -> dict[str, Any]:
    base = new_result({"index": 0, "op": "call", "expect": {"kind": "ok"}})
    base.update(fields)
    return base


@pytest.mark.parametrize(
    ("expect", "fields", "met"),
    [
        ({"kind": "ok"}, {"outcome": "ok"}, True),
        ({"kind": "ok"}, {"outcome": "error", "message": "boom"}, False),
        (
            {"kind": "error", "pattern": "unknown import"},
            {"outcome": "error", "message": "unknown import: x"},
            True,
        ),
        (
            {"kind": "error", "pattern": "^nope"},
            {"outcome": "error", "message": "unknown import"},
            False,
        ),
        (
            {"kind": "trap", "pattern": "unreachable"},
            {"outcome": "error", "error_kind": "trap", "trap_code": "unreachable"},
            True,
        ),
        ({"kind": "trap"}, {"outcome": "error", "error_kind": "runtime"}, False),
        (
            {"kind": "exit", "exit_code": 3},
            {"outcome": "error", "error_kind": "exit", "exit_code": 3},
            True,
        ),
        ({"kind": "exit", "exit_code": 0}, {"outcome": "ok", "exit_code": 0}, True),
        ({"kind": "exit", "exit_code": 3}, {"outcome": "ok"}, False),
        ({"kind": "crash", "pattern": "SIGSEGV"}, {"outcome": "crash", "signal": "SIGSEGV"}, True),
        ({"kind": "crash", "pattern": "exit 7"}, {"outcome": "crash", "exit_code": 7}, True),
        ({"kind": "crash", "pattern": "SIGSEGV"}, {"outcome": "crash", "signal": "SIGILL"}, False),
        ({"kind": "timeout"}, {"outcome": "timeout"}, True),
        ({"kind": "unsupported"}, {"outcome": "ok"}, False),
    ],
)
def test_check(expect: dict[str, Any], fields: dict[str, Any], met: bool) -> None:
    assert check(expect, result(**fields))[0] is met


def test_results_compare_by_type() -> None:
    got = [{"type": "f32", "value": 1.100000023841858}]
    assert values_equal([{"type": None, "value": 1.1}], got)
    assert not values_equal([{"type": None, "value": 1.2}], got)
    assert values_equal([{"type": None, "value": "nan"}], [{"type": "f64", "value": "nan"}])
    assert not values_equal([{"type": "i64", "value": 1}], [{"type": "i32", "value": 1}])
    met, why = check(
        {"kind": "ok"},
        result(outcome="ok", values=[{"type": "i32", "value": 4}]),
        [{"type": None, "value": 3}],
    )
    assert not met and why == "expected results [3], got [4]"


def test_any_is_an_observation_that_always_holds() -> None:
    from harness.model.outcome import check

    for outcome in ("ok", "error", "crash", "timeout", "unsupported"):
        assert check({"kind": "any"}, {"outcome": outcome, "message": "m"}) == (True, "")


def test_cache_state_from_file_counts() -> None:
    from harness.model.outcome import cache_state, check_cache

    assert cache_state(0, 3) == "miss"
    assert cache_state(3, 3) == "hit"
    assert cache_state(3, 2) == "hit"  # an eviction during a hit is still a hit
    assert cache_state(0, 0) == "unused"
    assert check_cache("hit", {"cache": "hit"}) == (True, "")
    met, why = check_cache(
        "hit", {"cache": "miss", "cache_files_before": 0, "cache_files_after": 2}
    )
    assert not met and why == "expected a cache hit, got miss (0 cache files before, 2 after)"


def test_stated_results_hold_under_an_observation_too() -> None:
    wanted = [{"type": None, "value": 42}]
    wrong = result(outcome="ok", values=[{"type": "i32", "value": 2}])
    met, why = check({"kind": "any"}, wrong, wanted)
    assert not met and why == "expected results [42], got [2]"
    assert check(
        {"kind": "any"}, result(outcome="ok", values=[{"type": "i32", "value": 42}]), wanted
    )[0]
    # an observation that did not return has no values to check: the diff judges it
    assert check({"kind": "any"}, result(outcome="error", message="trap"), wanted)[0]


SLOW = "(x+x+)+y"  # backtracks 2^n ways on n x's without a y


@pytest.mark.parametrize(
    ("expect", "fields"),
    [
        ({"kind": "error", "pattern": SLOW}, {"outcome": "error", "message": "x" * 40}),
        (
            {"kind": "trap", "pattern": SLOW},
            {"outcome": "error", "error_kind": "trap", "message": "x" * 40},
        ),
    ],
)
def test_a_pattern_too_slow_to_match_is_the_scenarios_error(
    expect: dict[str, Any], fields: dict[str, Any]
) -> None:
    import signal
    import time

    got = result(**fields)
    before = dict(got)
    handler = signal.getsignal(signal.SIGALRM)
    started = time.monotonic()
    met, why = check(expect, got, limit_s=0.2)
    assert time.monotonic() - started < 2
    assert (met, why) == (
        False,
        f"expectation pattern /{SLOW}/ took longer than 0.2 s: simplify it",
    )
    assert got == before  # the runtime's outcome and message are kept as they were
    assert signal.getsignal(signal.SIGALRM) is handler
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    # a fast pattern on the same message is judged as before
    assert check({"kind": "error", "pattern": "^x+$"}, got, limit_s=0.2) == (True, "")


def test_a_running_timer_goes_on_after_a_match() -> None:
    import signal

    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)
        check({"kind": "error", "pattern": "boom"}, result(outcome="error", message="boom"))
        assert 25 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert fired == []


@pytest.mark.parametrize(
    ("outcomes", "position"),
    [
        ([], None),
        (["ok", "not_run"], None),
        (["ok", "error", "not_run", "ok"], 1),
        # a failed instantiate, then the deferred close that crashes on what it returned
        (["ok", "error", "not_run", "crash"], 3),
        (["unsupported", "error"], 1),
        (["error", "error"], 0),
        (["crash", "timeout", "crash"], 1),
    ],
)
def test_the_worst_outcome_decides_a_run_and_the_first_of_them_is_its_step(
    outcomes: list[str], position: int | None
) -> None:
    assert decisive(outcomes) == position
