"""Outcome classes and expectation matching: pure, shared by the worker and the coordinator.

A step's outcome is one of OUTCOMES; a trap or a WASI exit is an `error` whose `error_kind`
says which (an exit with code 0 is `ok`). Steps that never ran because an earlier one went
wrong are `not_run`. The words are `harness.model.step.Outcome`'s.
"""

from __future__ import annotations

import math
import re
import signal
import struct
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from harness.model.json import JsonValue
from harness.model.step import ExpectJson, Outcome, StepHead, StepResultJson, WasmValue

OK = Outcome.OK.value
ERROR = Outcome.ERROR.value
CRASH = Outcome.CRASH.value
TIMEOUT = Outcome.TIMEOUT.value
UNSUPPORTED = Outcome.UNSUPPORTED.value
NOT_RUN = Outcome.NOT_RUN.value
OUTCOMES = (OK, ERROR, CRASH, TIMEOUT, UNSUPPORTED)

# How bad a step's outcome is. A run can have more than one step that did not end ok (a failed
# instantiate, then the deferred close that crashes on what it returned): the worst decides.
SEVERITY = {UNSUPPORTED: 0, ERROR: 1, CRASH: 2, TIMEOUT: 3}


def decisive(outcomes: Sequence[str]) -> int | None:
    """The position of the step that decides a run: the first with the worst outcome other than
    ok and not_run; None when there is none."""
    ranked = [(SEVERITY[o], -i) for i, o in enumerate(outcomes) if o in SEVERITY]
    return -max(ranked)[1] if ranked else None


# A scenario's pattern is matched against whatever a runtime said: one that backtracks without
# end must cost the scenario its step, not the runtime its outcome (the step's own deadline).
PATTERN_LIMIT_S = 1.0


def new_result(step: StepHead) -> StepResultJson:
    return {
        "index": step["index"],
        "op": step["op"],
        "line": step.get("line"),
        "outcome": NOT_RUN,
        "error_kind": None,
        "error_type": None,
        "message": None,
        "trap_code": None,
        "exit_code": None,
        "signal": None,
        "values": None,
        "detail": {},
        "duration_s": None,
        "expect": step["expect"],
        "met": None,
        "why": None,
    }


def cache_state(before: int, after: int) -> str:
    """What one compile did to the cache directory, from its file counts before and after:
    `miss` (it wrote entries), `hit` (entries were there and it wrote none) or `unused`."""
    if after > before:
        return "miss"
    return "hit" if before > 0 else "unused"


def check_cache(wanted: str, detail: Mapping[str, JsonValue]) -> tuple[bool, str]:
    got = detail.get("cache")
    if got == wanted:
        return True, ""
    return False, "expected a cache {}, got {} ({} cache files before, {} after)".format(
        wanted, got, detail.get("cache_files_before"), detail.get("cache_files_after")
    )


def intended_stop(result: StepResultJson, known: bool) -> str | None:
    """Why the steps after this one are not run although it met its expectation: it was an
    observation, or a known deviation, that ended other than ok. Their steps were written for
    an ok outcome. None when the run goes on."""
    if result["outcome"] == OK or not (result["expect"].get("kind") == "any" or known):
        return None
    return "step {} ({}) {} ended {}".format(
        result["index"] + 1,
        result["op"],
        "as known" if known else "was an observation that",
        result["outcome"],
    )


class _PatternTooSlow(Exception):
    pass


def _search(pattern: str, text: str, limit_s: float) -> bool:
    """re.search, stopped after `limit_s` by SIGALRM where this is the main thread of a POSIX
    process (the worker's case: the regex engine checks signals while it backtracks). Any timer
    and handler that were set are restored."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        return re.search(pattern, text) is not None
    armed = [True]

    def alarm(signum: int, frame: object) -> None:
        if armed[0]:
            raise _PatternTooSlow

    previous = signal.signal(signal.SIGALRM, alarm)
    started = time.monotonic()
    outer = signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        return re.search(pattern, text) is not None
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer[0] > 0:  # someone's timer was running: let it go on with what it had left
            left = outer[0] - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), outer[1])


def check(
    expect: ExpectJson,
    result: StepResultJson,
    wanted: Sequence[WasmValue] | None = None,
    limit_s: float = PATTERN_LIMIT_S,
) -> tuple[bool, str]:
    """Does the result meet the expectation? Returns (met, a short reason when it does not).

    A pattern that takes longer than `limit_s` to match is the scenario's error: not met, with
    a reason that says so; the result (the runtime's outcome and message) is left as it was."""
    pattern = expect.get("pattern")
    try:
        return _check(expect, result, wanted, lambda text: _search(str(pattern), text, limit_s))
    except _PatternTooSlow:
        return False, (
            f"expectation pattern /{pattern}/ took longer than {limit_s:g} s: simplify it"
        )


def _check(
    expect: ExpectJson,
    result: StepResultJson,
    wanted: Sequence[WasmValue] | None,
    matches: Callable[[str], bool],
) -> tuple[bool, str]:
    kind = expect.get("kind", OK)
    outcome = result["outcome"]
    # Stated results hold whenever the call returns, an observation's too: a silent wrong
    # value is the worst break there is.
    got_values = result.get("values") or []
    if outcome == OK and wanted is not None and not values_equal(wanted, got_values):
        return False, f"expected results {show_values(wanted)}, got {show_values(got_values)}"
    if kind == "any":  # an observation: the diff across releases judges it, not the scenario
        return True, ""
    pattern = expect.get("pattern")
    message = result.get("message") or ""
    got = describe(result)
    if kind == OK:
        if outcome != OK:
            return False, f"expected ok, got {got}"
        return True, ""
    if kind == "exit":
        if (
            result.get("error_kind") == "exit"
            or (outcome == OK and result.get("exit_code") is not None)
        ) and result.get("exit_code") == expect.get("exit_code"):
            return True, ""
        return False, "expected exit {}, got {}".format(expect.get("exit_code"), got)
    if kind == "trap":
        is_trap = outcome == ERROR and result.get("error_kind") == "trap"
        code = result.get("trap_code")
        if is_trap and (pattern is None or pattern == code or matches(message)):
            return True, ""
        return False, "expected trap{}, got {}".format(f" /{pattern}/" if pattern else "", got)
    if kind == CRASH:
        if outcome == CRASH:
            label = result.get("signal") or "exit {}".format(result.get("exit_code"))
            if pattern is None or pattern in (label, "any") or matches(label):
                return True, ""
        return False, "expected crash{}, got {}".format(" " + pattern if pattern else "", got)
    if outcome != kind:
        return False, f"expected {kind}, got {got}"
    if pattern is not None and not matches(message):
        return False, f"expected {kind} matching /{pattern}/, got {message[:200]!r}"
    return True, ""


def describe(result: StepResultJson) -> str:
    outcome = result["outcome"]
    if outcome == CRASH:
        return "crash (%s)" % (result.get("signal") or "exit {}".format(result.get("exit_code")))
    if outcome == ERROR:
        kind = result.get("error_kind")
        if kind == "trap":
            return "trap %s" % (
                result.get("trap_code") or repr((result.get("message") or "")[:120])
            )
        if kind == "exit":
            return "exit {}".format(result.get("exit_code"))
        return "error {}: {}".format(result.get("error_type"), (result.get("message") or "")[:160])
    return str(outcome)


def values_equal(wanted: Sequence[WasmValue], got: Sequence[WasmValue]) -> bool:
    if len(wanted) != len(got):
        return False
    return all(_value_equal(w, g) for w, g in zip(wanted, got))


def _value_equal(wanted: WasmValue, got: WasmValue) -> bool:
    kind = got.get("type")
    if wanted.get("type") not in (None, kind):
        return False
    w, g = _as_number(wanted["value"]), _as_number(got["value"])
    if kind in ("f32", "f64") or isinstance(w, float) or isinstance(g, float):
        if math.isnan(w) or math.isnan(g):
            return math.isnan(w) and math.isnan(g)
        if kind == "f32":
            w = struct.unpack("<f", struct.pack("<f", w))[0]
        return float(w) == float(g)
    return int(w) == int(g)


def _as_number(value: int | float | str) -> int | float:
    if isinstance(value, str):
        return float(value)
    return value


def show_values(values: Sequence[WasmValue]) -> str:
    return "[{}]".format(", ".join(str(v.get("value")) for v in values))
