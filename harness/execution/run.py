"""Run cases on a runtime: segment after segment in fresh processes, sharing one work dir.

A case whose segment was killed by a SIGKILL or SIGTERM the coordinator did not send runs once
more; its record says so (`segment_retried`), and keeps the second attempt's results.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from harness.analysis.normalize import normalize
from harness.execution.pool import WorkerPool, pool_or_own
from harness.execution.segment import SegmentRun, not_run, run_segment
from harness.model.outcome import NOT_RUN, OK, UNSUPPORTED, decisive, intended_stop
from harness.model.runtime import Runtime
from harness.model.step import ExpectJson, StepJson, StepResultJson
from harness.scenario.fixtures import FixtureBuilder
from harness.scenario.model import Case, Known

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MEMORY_MB = 2048


def select(cases: Iterable[Case], pattern: str | None) -> list[Case]:
    """Cases whose id or tags contain the pattern (case-insensitive), like pytest's -k."""
    if not pattern:
        return list(cases)
    needle = pattern.lower()
    return [
        c
        for c in cases
        if needle in c.id.lower() or any(needle == t.lower() for t in c.scenario.tags)
    ]


def workdir_for(out: Path, case: Case, label: str) -> Path:
    """`OUT/work/RUNTIME/CASE`, unique for any case id and label."""
    runtime = _path_name(label, r"[^A-Za-z0-9_.-]+", "__")
    return out / "work" / runtime / _path_name(case.id, r"[^A-Za-z0-9_.=,-]+", "_")


def _path_name(text: str, unsafe: str, replacement: str, limit: int = 120) -> str:
    """A file name for `text`: as it is where it is safe and short, else made safe and cut,
    with a hash of the whole text, so two texts never share a name."""
    safe = re.sub(unsafe, replacement, text)
    if safe == text and len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{safe[: limit - len(digest) - 1]}-{digest}"


def run_case(
    case: Case,
    runtime: Runtime,
    builder: FixtureBuilder,
    out: Path,
    timeout: float,
    memory_mb: int,
    pool: WorkerPool | None = None,
    *,
    keep_work: bool = False,
    consumer: Runtime | None = None,
    producer: Runtime | None = None,
) -> dict[str, Any]:
    """Run a case's segments in fresh processes sharing one work dir.

    With a `consumer`, this is an upgrade run: the segments before the first restart run on
    `runtime` (the producer), the rest on the consumer, as an application does across an upgrade.
    With a `producer`, the first segment runs there instead and the run is `runtime`'s. Without a
    `pool` the call opens one of its own.
    """
    label = f"{runtime.name}→{consumer.name}" if consumer is not None else runtime.name
    workdir = workdir_for(out, case, label)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    chain = _Chain(
        case,
        [producer or runtime, *[consumer or runtime] * (len(case.segments) - 1)],
        workdir,
        builder.for_case(case),
        case.scenario.timeout or timeout,
        memory_mb,
    )
    known = _known(case, runtime, consumer, producer)
    started = time.monotonic()
    with pool_or_own(pool) as own:
        done, retried = _run_chain(chain, known, own, workdir)
    results = _annotated(done.results, case, known)
    status = run_status(results)
    kept = status == "fail" or keep_work
    if not kept:
        shutil.rmtree(workdir, ignore_errors=True)
    record = run_identity(case, runtime, consumer, producer)
    applied = sorted({r["known"] for r in results if r.get("known") and r["outcome"] != NOT_RUN})
    if applied:
        record["known"] = applied
    if retried is not None:
        record["segment_retried"] = retried
    record.update(
        outcome=run_outcome(results),
        status=status,
        reason=done.stop_reason,
        steps=results,
        segments=done.segments,
        duration_s=round(time.monotonic() - started, 6),
        workdir=str(workdir) if kept else None,
    )
    return record


def _run_chain(
    chain: _Chain, known: dict[int, Known], pool: WorkerPool, workdir: Path
) -> tuple[_Done, str | None]:
    """The chain's segments, run once more if a segment was killed from outside; with why."""
    done = chain.run(known, pool)
    retried = done.killed_from_outside
    if retried is not None:
        # Nobody here sent that signal: someone else did, or the kernel (the OOM killer at the
        # memory cap). Run the case once more from a fresh work dir (a segment's state is what
        # the ones before it left): if it dies so again, that crash is recorded.
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        done = chain.run(known, pool)
    return done, retried


@dataclass
class _Done:
    """A case's segments so far: their results, their records, and why the rest do not run."""

    results: list[StepResultJson] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None
    observed: bool = False  # stopped by an observation: the steps not run are as intended
    killed_from_outside: str | None = None  # which segment a signal not ours ended, and how


@dataclass(frozen=True)
class _Chain:
    """A case's segments, each on its runtime, sharing one work dir."""

    case: Case
    runtimes: list[Runtime]  # one per segment
    workdir: Path
    fixtures: dict[str, str]
    limit: float
    memory_mb: int

    def run(self, known: dict[int, Known], pool: WorkerPool) -> _Done:
        done = _Done()
        for index, steps in enumerate(self.case.segments):
            payload = [_with_known(cast(StepJson, s.to_json()), known) for s in steps]
            if done.stop_reason is not None:
                done.results += [not_run(s, done.stop_reason, done.observed) for s in payload]
                continue
            on = self.runtimes[index]
            seg = run_segment(
                on.worker_command,
                payload,
                index,
                self.workdir,
                self.fixtures,
                self.limit,
                self.memory_mb,
                pool=pool,
            )
            done.segments.append(
                {
                    "index": index,
                    "runtime": on.name,
                    "returncode": seg.returncode,
                    "duration_s": seg.duration_s,
                    "isolation": seg.isolation,
                    "isolation_reason": seg.isolation_reason,
                }
            )
            if seg.killed_from_outside and done.killed_from_outside is None:
                done.killed_from_outside = (
                    f"segment {index} killed from outside by {seg.killed_from_outside}"
                )
            _take(done, seg, on, payload, known)
        return done


def _take(
    done: _Done,
    seg: SegmentRun,
    on: Runtime,
    payload: list[StepJson],
    known: dict[int, Known],
) -> None:
    """A segment's results into `done`, and why the segments after it do not run, if so."""
    if seg.unavailable:
        done.stop_reason = f"runtime {on.name} unavailable: {seg.unavailable}"
    elif seg.stopped:
        done.stop_reason, done.observed = seg.stopped, True
    finished = {r["index"] for r in seg.results}
    if not seg.completed and done.stop_reason is None:
        failed = next((r for r in seg.results if r.get("met") is False), None)
        last = seg.results[-1] if seg.results else None
        if failed:
            done.stop_reason = (
                f"step {failed['index'] + 1} ({failed['op']}) did not meet its expectation"
            )
        elif last is not None and (why := intended_stop(last, last["index"] in known)):
            done.stop_reason, done.observed = why, True  # it crashed or hung where allowed
        else:
            done.stop_reason = "segment did not finish"
    skipped = [
        not_run(s, done.stop_reason or "", done.observed)
        for s in payload
        if s["index"] not in finished
    ]
    # a close that runs `always` after a failure comes after the steps not run before it
    done.results += sorted(seg.results + skipped, key=_step_order)


def _step_order(result: StepResultJson) -> tuple[int, int]:
    """Steps by index; a segment's teardown (index -1) after them."""
    index = result["index"]
    return (1, 0) if index < 0 else (0, index)


def _annotated(
    results: list[StepResultJson], case: Case, known: dict[int, Known]
) -> list[StepResultJson]:
    """Results with their messages normalized and cut, and what the scenario says of them."""
    stated = {
        s.index: s.args["results"] for seg in case.segments for s in seg if s.args.get("results")
    }
    for r in results:
        r["normalized_message"] = normalize(r.get("message"))
        r["message"] = truncate(r.get("message"))
        if r["index"] in known:
            r["known"] = known[r["index"]].reason
        if r["index"] in stated:  # the scenario's own results, whatever a known entry says
            r["stated_results"] = stated[r["index"]]
    return results


def _known(
    case: Case, runtime: Runtime, consumer: Runtime | None, producer: Runtime | None
) -> dict[int, Known]:
    """The case's known behaviour on these runtimes, by step index."""
    if consumer is not None:
        return case.known_for(None, runtime.name, consumer.name)
    return case.known_for(runtime.name, producer.name if producer else None)


def _with_known(step: StepJson, known: dict[int, Known]) -> StepJson:
    if step["index"] in known:
        entry = known[step["index"]]
        step["expect"] = cast(ExpectJson, entry.expect.to_json())
        step["known"] = entry.reason
        if entry.results is not None:
            step["args"] = {**step["args"], "results": list(entry.results)}
        if entry.cache is not None:
            step["args"] = {**step["args"], "cache": entry.cache}
    return step


def run_identity(
    case: Case,
    runtime: Runtime,
    consumer: Runtime | None = None,
    producer: Runtime | None = None,
) -> dict[str, Any]:
    """The fields of a run's record that say which run it is (not how it went)."""
    where: dict[str, Any] = (
        {"from": runtime.name, "to": consumer.name}
        if consumer is not None
        else {"runtime": runtime.name}
    )
    if producer is not None:
        where["producer"] = producer.name
    return {
        "scenario": case.scenario.name,
        "path": case.scenario.path,
        "tags": list(case.scenario.tags),
        "params": case.params,
        "params_id": case.params_id,
        "case": case.id,
        **where,
    }


def placeholder(
    case: Case, runtime: Runtime, reason: str, consumer: Runtime | None = None
) -> dict[str, Any]:
    """A requested run that could not happen: it still appears, with the reason."""
    record = run_identity(case, runtime, consumer)
    steps = [
        {**not_run(cast(StepJson, s.to_json()), reason), "normalized_message": None}
        for segment in case.segments
        for s in segment
    ]
    record.update(
        outcome=NOT_RUN,
        status=NOT_RUN,
        reason=reason,
        steps=steps,
        segments=[],
        duration_s=0.0,
        workdir=None,
    )
    return record


MAX_MESSAGE = 8000  # old releases put megabytes of backtrace into a stack-overflow message


def truncate(message: str | None, limit: int = MAX_MESSAGE) -> str | None:
    if message is None or len(message) <= limit:
        return message
    return f"{message[:limit]}… [{len(message) - limit} more characters cut]"


def run_status(steps: Sequence[StepResultJson]) -> str:
    """pass: every step met its expectation; unsupported: the runtime could not express a step
    (not a failure of the runtime, nor of the scenario); fail: anything else."""
    first_unmet = next((s for s in steps if s.get("met") is False), None)
    if first_unmet is None:
        return "pass" if steps and all(s.get("met") for s in steps) else "fail"
    return "unsupported" if first_unmet["outcome"] == UNSUPPORTED else "fail"


def run_outcome(steps: Sequence[StepResultJson]) -> str:
    """A run's outcome is that of its decisive step (`harness.model.outcome.decisive`)."""
    position = decisive([s["outcome"] for s in steps])
    return OK if position is None else str(steps[position]["outcome"])
