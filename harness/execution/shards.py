"""Upgrade pairs whose producer and consumer ran in different shards: run them where both
runtimes are provisioned (`merge --run-missing`), or record them as not run with the reason."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.execution import coordinator as session
from harness.execution.pool import WorkerPool
from harness.execution.probe import runtime_state
from harness.execution.run import placeholder, run_case
from harness.model.runtime import Runtime
from harness.provision.toxenvs import load_project
from harness.scenario.model import Case
from harness.scenario.suite import load_suite
from harness.store.merge import missing_pairs, unrun_pair


def missing_upgrade_runs(
    joined: dict[str, Any], options: argparse.Namespace, pool: WorkerPool
) -> list[dict[str, Any]]:
    pairs = missing_pairs(joined)
    if not pairs:
        return []
    local: dict[str, Runtime] = {}
    if options.run_missing:
        project = load_project(options.tox_ini)
        scratch = options.out / "work" / ".probe"
        local = {s.name: runtime_state(project, s, scratch, pool) for s in project.specs}
    runs = []
    limits = session.Limits(options.timeout, options.memory_mb)
    for sample, a, b in pairs:
        case = _case(sample)
        producer, consumer = local.get(a), local.get(b)
        if case is None:
            runs.append(unrun_pair(sample, a, b, f"scenario file {sample['path']} not found here"))
        elif producer and consumer and not (producer.unavailable or consumer.unavailable):
            builder = load_suite([Path(sample["path"])]).builders[case.scenario.path]
            runs.append(
                run_case(
                    case,
                    producer,
                    builder,
                    options.out,
                    limits.timeout,
                    limits.memory_mb,
                    pool,
                    consumer=consumer,
                )
            )
        else:
            why = (
                f"{a} and {b} ran in different shards; run `wasm-compat merge --run-missing` "
                "where both are provisioned"
            )
            if options.run_missing:
                why = f"{a} and {b} ran in different shards and are not both provisioned here"
            runs.append(placeholder(case, Runtime(a, ""), why, Runtime(b, "")))
    return runs


def _case(sample: dict[str, Any]) -> Case | None:
    path = Path(sample["path"])
    if not path.exists():
        return None
    suite = load_suite([path])
    for case in suite.cases():
        if case.scenario.name == sample["scenario"] and case.params_id == sample.get("params_id"):
            return case
    return None
