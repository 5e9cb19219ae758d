"""Crash attribution: which step a segment's end lands on, and what it makes of it. Pure.

The worker never reports `crash` or `timeout`: it cannot. Given a segment's steps, the events
received and how its process ended, the step in flight (the last `step_started` without its
`step_finished`, else the first step with no result, unless the segment finished) gets the
outcome: `timeout` with the limit, `crash` with the signal or exit code, or a harness error,
each with the stderr tail. A process that died after every step finished gets a `teardown`
pseudo-step. A step that failed on its own keeps the stderr tail too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.execution.events import Received
from harness.model.outcome import CRASH, TIMEOUT, check, new_result
from harness.model.process import Ending, go_panic, signal_name
from harness.model.step import ErrorFields, StepHead, StepJson, StepResultJson

TEARDOWN: StepHead = {"index": -1, "op": "teardown", "line": None, "expect": {"kind": "ok"}}


@dataclass(frozen=True)
class Attributed:
    """A segment's results with its end attributed, and whether it completed."""

    results: list[StepResultJson]
    completed: bool


def attribute(
    steps: Sequence[StepJson], received: Received, ending: Ending, limit_s: float
) -> Attributed:
    """The segment's results once its process has ended (see the module)."""
    results = list(received.results)
    failure = failure_of(ending.returncode, ending.timed_out, limit_s)
    if received.harness_error is not None:
        failure = {
            "outcome": "error",
            "error_kind": "harness",
            "error_type": "HarnessError",
            "message": received.harness_error,
        }
    if failure is None:
        if results and results[-1]["outcome"] != "ok":
            results[-1] = {**results[-1], "stderr_tail": ending.stderr_tail}
        return Attributed(results, received.completed)
    by_index = {s["index"]: s for s in steps}
    in_flight = step_in_flight(by_index, received)
    step = TEARDOWN if in_flight is None else by_index[in_flight]
    result: StepResultJson = {**new_result(step), **with_cause(failure, ending.stderr_tail)}
    result["stderr_tail"] = ending.stderr_tail
    result["duration_s"] = ending.duration_s
    met, why = check(step["expect"], result)
    result["met"], result["why"] = met, why or None
    results.append(result)
    # an expected crash completes the segment only where it hit the segment's last step
    completed = met and in_flight is not None and max(by_index) == in_flight
    return Attributed(results, completed)


def step_in_flight(by_index: dict[int, StepJson], received: Received) -> int | None:
    """The step a segment's end lands on; None when every step had finished (teardown)."""
    if received.in_flight is not None:
        return received.in_flight
    done = {r["index"] for r in received.results}
    pending = [i for i in by_index if i not in done]
    return pending[0] if pending and not received.completed else None


def failure_of(returncode: int | None, timed_out: bool, limit_s: float) -> ErrorFields | None:
    """The outcome a process's end gives the step in flight; None for a clean exit."""
    if timed_out:
        return {
            "outcome": TIMEOUT,
            "message": f"no result within {limit_s:g} s; process group killed",
        }
    if returncode is None or returncode == 0:
        return None
    if returncode < 0:
        name = signal_name(-returncode)
        return {"outcome": CRASH, "signal": name, "message": f"worker killed by {name}"}
    return {
        "outcome": CRASH,
        "exit_code": returncode,
        "message": f"worker exited with {returncode}",
    }


def with_cause(failure: ErrorFields, stderr_tail: str) -> ErrorFields:
    """A crash's message with the line that says why, where its stderr has one a runtime's own
    code prints (a Go panic: exit 2 alone says nothing)."""
    cause = go_panic(stderr_tail) if failure.get("outcome") == CRASH else None
    return {**failure, "message": f"{failure['message']}: {cause}"} if cause else failure
