"""A matrix run once planned: where each run goes as it ends (`Recorder`), and the runs still to
run, their reruns, then the diff and the reports (`MatrixRun`), written whatever happens."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from harness.analysis import diff
from harness.cli import verdict
from harness.execution import coordinator as session
from harness.execution.pool import WorkerPool
from harness.report import console
from harness.reuse.session import Reuse
from harness.scenario.suite import Suite
from harness.store.results import ResultsWriter


@dataclass
class Recorder:
    """Where a run goes as it ends: results.jsonl, this command's runs, the progress line and
    the result cache."""

    writer: ResultsWriter
    runs: list[dict[str, Any]]
    reuse: Reuse
    progress: console.Progress = field(default_factory=lambda: console.Progress(0))

    def reused(self, runs: list[dict[str, Any]]) -> None:
        self.writer.runs(runs)
        self.runs.extend(runs)

    def record(self, run: dict[str, Any]) -> None:
        self.writer.run(run)
        self.runs.append(run)
        self.progress.advance(run)
        self.reuse.keep(run)

    def rerun(self, key: tuple[str, str, str], run: dict[str, Any]) -> None:
        self.writer.rerun(key, run["reruns"], run["flaky"])
        self.reuse.keep(run)


@dataclass
class MatrixRun:
    """The runs still to run, their reruns, then the diff and the reports, written whatever
    happens (a `finally`)."""

    options: argparse.Namespace
    pool: WorkerPool
    suite: Suite
    everything: list[session.Planned]
    runtimes: list[dict[str, Any]]

    def execute(
        self,
        planned: list[session.Planned],
        recorder: Recorder,
        started: str,
        entries: list[dict[str, Any]],
    ) -> dict[str, Any]:
        options, out = self.options, self.options.out
        limits = session.Limits(options.timeout, options.memory_mb, options.keep_work)
        recorder.progress = console.Progress(len(planned))
        settled: list[dict[str, Any]] | None = None  # the transitions, once reruns are done
        try:
            session.run_all(
                planned, self.suite, out, limits, recorder.record, options.jobs, self.pool
            )
            recorder.progress.finish()
            settled = self._rerun(recorder, limits)
        finally:
            recorder.progress.finish()
            recorder.writer.close()
            required = verdict.required(options)
            document = verdict.finish(
                self.runtimes, recorder.runs, started, entries, out, required, transitions=settled
            )
        return document

    def _rerun(self, recorder: Recorder, limits: session.Limits) -> list[dict[str, Any]] | None:
        """Rerun what changed; the transitions when no rerun changed them."""
        options = self.options
        transitions = diff.transitions(recorder.runs, self.runtimes)
        rerun = session.rerun_changed(
            recorder.runs,
            self.everything,
            self.runtimes,
            self.suite,
            options.out,
            limits,
            options.reruns,
            options.jobs,
            recorded=recorder.rerun,
            pool=self.pool,
            transitions=transitions,
        )
        if not rerun:
            return transitions
        print(f"reran {rerun} run(s) {options.reruns} more time(s) to tell changes from flakiness")
        return None
