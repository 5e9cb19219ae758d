"""Joining shards: upgrade pairs whose producer and consumer ran in different shards.

A CI job that shards by runtime cannot run an upgrade pair across two shards. The merge step
runs such a pair when both runtimes are provisioned where it runs (`--run-missing`), and
otherwise records it as not run, with the reason, so the cell still shows.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness import diff, session
from harness.runner import Runtime, placeholder, run_case
from harness.scenario import Case
from harness.suite import load_suite
from harness.toxenvs import load_project, runtime_state


def _usable(runtimes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in runtimes if r.get("status") == "ok"]


def missing_pairs(joined: dict[str, Any]) -> list[tuple[dict[str, Any], str, str]]:
    """(an upgrade run of the case, producer, consumer) for each pair of one family that no
    shard ran. Pure."""
    usable = _usable(joined["runtimes"])
    families = {r["name"]: r.get("family") for r in usable}
    done = {(r["scenario"], r.get("params_id") or "", diff.run_label(r)) for r in joined["runs"]}
    cases = {(r["scenario"], r.get("params_id") or ""): r for r in joined["runs"] if "from" in r}
    missing = []
    for (scenario, params), sample in sorted(cases.items()):
        for a in families:
            for b in families:
                if families[a] != families[b] or (scenario, params, f"{a}→{b}") in done:
                    continue
                missing.append((sample, a, b))
    return missing


def missing_upgrade_runs(
    joined: dict[str, Any], options: argparse.Namespace
) -> list[dict[str, Any]]:
    pairs = missing_pairs(joined)
    if not pairs:
        return []
    local: dict[str, Runtime] = {}
    if options.run_missing:
        project = load_project(options.tox_ini)
        scratch = options.out / "work" / ".probe"
        local = {s.name: runtime_state(project, s, scratch) for s in project.specs}
    runs = []
    limits = session.Limits(options.timeout, options.memory_mb)
    for sample, a, b in pairs:
        case = _case(sample)
        producer, consumer = local.get(a), local.get(b)
        if case is None:
            runs.append(_bare(sample, a, b, f"scenario file {sample['path']} not found here"))
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


def _bare(sample: dict[str, Any], a: str, b: str, reason: str) -> dict[str, Any]:
    keep = ("scenario", "path", "tags", "params", "params_id", "case")
    return {
        **{k: sample.get(k) for k in keep},
        "from": a,
        "to": b,
        "outcome": "not_run",
        "status": "not_run",
        "reason": reason,
        "steps": [],
        "segments": [],
        "duration_s": 0.0,
        "workdir": None,
    }
