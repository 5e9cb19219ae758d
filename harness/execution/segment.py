"""Run a segment in an isolated worker process and turn whatever happens into step results.

Three parts, composed by `run_segment`: the transport starts the process (a fork of the runtime's
warm worker, or a fresh one) and reads its event lines until they end or the deadline passes
(`transport`); each event is checked and recorded by its handler (`events`); and how the process
ended is pinned on the step in flight (`attribution`). A dead worker is a result: the step in
flight becomes `crash` with its signal or exit code and the stderr tail; a worker past its
deadline is interrupted, terminated, then killed, and the step in flight becomes `timeout`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.execution import events, transport
from harness.execution.attribution import attribute
from harness.execution.pool import SPAWN, Terminated, WorkerPool, pool_or_own
from harness.model.outcome import NOT_RUN, new_result
from harness.model.runtime import WorkerCommand
from harness.model.step import StepHead, StepJson, StepResultJson
from harness.worker.protocol import PROTOCOL_VERSION, encode


@dataclass
class SegmentRun(events.Received):
    """What came back from one segment's process: its events, and how the process ended."""

    returncode: int | None = None
    duration_s: float = 0.0
    isolation: str = SPAWN  # "fork": a fork of the runtime's warm worker; "spawn": a fresh one
    isolation_reason: str | None = None  # why not a fork
    killed_from_outside: str | None = None  # the SIGKILL or SIGTERM that ended it, not ours


def run_segment(
    worker: WorkerCommand | str,
    steps: list[StepJson],
    index: int,
    workdir: Path,
    fixtures: dict[str, str],
    timeout: float,
    memory_mb: int,
    family: str | None = None,
    variant: str = "",
    pool: WorkerPool | None = None,
) -> SegmentRun:
    """Run these steps in one worker process. `worker` is the command that starts it, or an
    interpreter, whose Python worker then loads `family` and `variant`. Without a `pool` the
    call opens one of its own."""
    if isinstance(worker, str):
        worker = WorkerCommand.python(worker, family, variant)
    segment = {
        "index": index,
        "workdir": str(workdir),
        "fixtures": fixtures,
        "steps": steps,
        "protocol": PROTOCOL_VERSION,
    }
    commands = encode("run_segment", segment=segment) + encode("shutdown")
    received = events.Received()
    with (
        pool_or_own(pool) as own,
        transport.start(worker, workdir, memory_mb, commands, own) as process,
    ):
        process.read(timeout, lambda line: _take(received, line, process))
        if own.terminating:  # the command was told to end: this segment is not a result
            raise Terminated
    ending = process.ending
    assert ending is not None
    if ending.lost and not ending.timed_out:
        received.harness_error = f"the segment's process ended unobserved: {ending.lost}"
    out = SegmentRun(
        **vars(received),
        returncode=ending.returncode,
        duration_s=ending.duration_s,
        isolation=process.isolation,
        isolation_reason=process.isolation_reason,
        killed_from_outside=None if ending.timed_out else ending.killed_from_outside,
    )
    if out.unavailable is None:  # a runtime that is not there has no step to pin its end on
        attributed = attribute(steps, received, ending, timeout)
        out.results, out.completed = attributed.results, attributed.completed
    return out


def _take(received: events.Received, line: bytes, process: transport.SegmentProcess) -> bool:
    """One event line into `received`; a stream that is not wanted any more ends its process."""
    if events.receive(received, line):
        return True
    process.stop()
    return False


def not_run(step: StepHead, reason: str, intended: bool = False) -> StepResultJson:
    """A step that never ran; `intended` when an observation stopped the run (it still passes)."""
    result = new_result(step)
    result["outcome"] = NOT_RUN
    result["why"] = reason
    if intended:
        result["met"] = True
    return result
