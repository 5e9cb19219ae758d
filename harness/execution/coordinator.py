"""A matrix run: every case on every runtime, every upgrade pair, reruns of what changed.

Results are appended to results.jsonl as each run ends; the caller writes compat.json in a
`finally`. Runtimes that are not provisioned or not usable still get one record per case, with
the reason, so every requested cell shows up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from harness.analysis import diff
from harness.execution.pool import WorkerPool, pool_or_own
from harness.execution.run import placeholder, run_case
from harness.model.record import RunKey, pair_label, run_key
from harness.model.runtime import Runtime
from harness.plan.matrix import parse_runtime_name, version_key
from harness.scenario.model import Case
from harness.scenario.suite import Suite

DEFAULT_RERUNS = 2
_lock = threading.Lock()  # results.jsonl is written by one thread at a time


@dataclass(frozen=True)
class Limits:
    timeout: float
    memory_mb: int
    keep_work: bool = False


@dataclass(frozen=True)
class Planned:
    """One requested run: a case on a runtime, or an upgrade run from one runtime to another."""

    case: Case
    runtime: Runtime
    consumer: Runtime | None = None
    producer: Runtime | None = None  # a `producer: other-family` case: its first segment's runtime

    @property
    def label(self) -> str:
        name = self.runtime.name
        return pair_label(name, self.consumer.name) if self.consumer else name

    @property
    def key(self) -> RunKey:
        """The key its run record will have (`harness.model.record.run_key`)."""
        return (self.case.scenario.name, self.case.params_id, self.label)

    @property
    def blocked(self) -> str | None:
        if self.case.scenario.producer and self.producer is None:
            return "no usable runtime of another family in this run to produce the artifact"
        for r in (self.runtime, self.consumer, self.producer):
            if r is not None and r.unavailable:
                return f"{r.name} {r.problem}"
        return None


def family_of(runtime: Runtime) -> str | None:
    try:
        return parse_runtime_name(runtime.name).family
    except ValueError:
        return runtime.family


def plan(
    cases: Sequence[Case], runtimes: Sequence[Runtime], cross_family: bool = False
) -> list[Planned]:
    """Plain cases on each runtime; upgrade cases on every ordered pair of one family (A == A is
    the control), across families only on request. Order: runtime by runtime, then the pairs."""
    upgrades = [c for c in cases if c.scenario.upgrade]
    planned = [
        Planned(c, r, producer=foreign_producer(r, runtimes) if c.scenario.producer else None)
        for r in runtimes
        for c in cases
        if not c.scenario.upgrade
    ]
    for a in runtimes:
        for b in runtimes:
            if cross_family or family_of(a) == family_of(b):
                planned += [Planned(c, a, b) for c in upgrades]
    return planned


def foreign_producer(runtime: Runtime, runtimes: Sequence[Runtime]) -> Runtime | None:
    """The newest usable runtime of another family (the first listed of that release)."""
    others = [r for r in runtimes if not r.unavailable and family_of(r) != family_of(runtime)]
    if not others:
        return None
    newest = max(version_key(r.version or "0") for r in others)
    return next(r for r in others if version_key(r.version or "0") == newest)


Report = Callable[[dict[str, Any]], None]


def execute(
    planned: Planned,
    suite: Suite,
    out: Path,
    limits: Limits,
    pool: WorkerPool | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    blocked = reason or planned.blocked
    if blocked:
        return placeholder(planned.case, planned.runtime, blocked, planned.consumer)
    return run_case(
        planned.case,
        planned.runtime,
        suite.builders[planned.case.scenario.path],
        out,
        limits.timeout,
        limits.memory_mb,
        pool,
        keep_work=limits.keep_work,
        consumer=planned.consumer,
        producer=planned.producer,
    )


def run_all(
    planned: Sequence[Planned],
    suite: Suite,
    out: Path,
    limits: Limits,
    report: Report,
    jobs: int = 1,
    pool: WorkerPool | None = None,
) -> list[dict[str, Any]]:
    """Run everything planned, `jobs` at a time (each run is a chain of worker processes, so
    threads only wait); `report` is called, serialized, as each run ends. Without a `pool` the
    call opens one of its own."""
    lock = threading.Lock()
    runs: list[dict[str, Any]] = []
    with pool_or_own(pool) as own:

        def one(item: Planned) -> None:
            record = execute(item, suite, out, limits, own)
            with lock:
                report(record)
                runs.append(record)

        _each(one, planned, jobs)
    return runs


T = TypeVar("T")


def _each(work: Callable[[T], None], items: Sequence[T], jobs: int) -> None:
    if jobs <= 1:
        for item in items:
            work(item)
        return
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="wasm-compat")
    try:
        for future in [pool.submit(work, item) for item in items]:
            future.result()  # re-raise a harness bug here, not silently
    except BaseException:
        # Ctrl-C or a bug: drop the queued runs, finish only those in flight
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def rerun_changed(
    runs: list[dict[str, Any]],
    planned: Sequence[Planned],
    runtimes: Sequence[dict[str, Any]],
    suite: Suite,
    out: Path,
    limits: Limits,
    times: int,
    jobs: int = 1,
    recorded: Callable[[tuple[str, str, str], dict[str, Any]], None] | None = None,
    pool: WorkerPool | None = None,
    transitions: list[dict[str, Any]] | None = None,
) -> int:
    """Rerun, `times` more each in fresh processes, every run on either side of a transition
    that is not `same`; a run whose signature changes is marked flaky. A run that already has
    its reruns (a resumed run) is not rerun; `recorded` is told of each new one. Returns runs
    rerun. Without a `pool` the call opens one of its own; `transitions` are those of `runs`,
    when the caller has them already."""
    if times <= 0:
        return 0
    if transitions is None:
        transitions = diff.transitions(runs, runtimes)
    wanted = diff.needs_rerun(transitions)
    by_key = {p.key: p for p in planned}
    chosen: list[tuple[Planned, dict[str, Any]]] = []
    for record in runs:
        key = run_key(record)
        item = by_key.get(key)
        fresh = "reruns" not in record
        if key in wanted and item is not None and record["outcome"] != "not_run" and fresh:
            chosen.append((item, record))

    if not chosen:
        return 0
    with pool_or_own(pool) as own:

        def again(pair: tuple[Planned, dict[str, Any]]) -> None:
            item, record = pair
            reruns = [execute(item, suite, out, limits, own) for _ in range(times)]
            record["reruns"] = [diff.summary_of(diff.signature(r)) for r in reruns]
            record["flaky"] = diff.is_flaky(record, reruns)
            if recorded is not None:
                key = run_key(record)
                with _lock:
                    recorded(key, record)

        _each(again, chosen, jobs)
    return len(chosen)
