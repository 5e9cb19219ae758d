"""Joining shards: upgrade pairs whose producer and consumer ran in different shards.

A CI job that shards by runtime cannot run an upgrade pair across two shards. The merge step
runs such a pair when both runtimes are provisioned where it runs (`--run-missing`), and
otherwise records it as not run, with the reason, so the cell still shows.
"""

from __future__ import annotations

from typing import Any

from harness.model.record import pair_label, run_key


def _usable(runtimes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in runtimes if r.get("status") == "ok"]


def missing_pairs(joined: dict[str, Any]) -> list[tuple[dict[str, Any], str, str]]:
    """(an upgrade run of the case, producer, consumer) for each pair of one family that no
    shard ran. Pure."""
    usable = _usable(joined["runtimes"])
    families = {r["name"]: r.get("family") for r in usable}
    done = {run_key(r) for r in joined["runs"]}
    cases = {(r["scenario"], r.get("params_id") or ""): r for r in joined["runs"] if "from" in r}
    missing = []
    for (scenario, params), sample in sorted(cases.items()):
        for a in families:
            for b in families:
                if families[a] != families[b] or (scenario, params, pair_label(a, b)) in done:
                    continue
                missing.append((sample, a, b))
    return missing


def unrun_pair(sample: dict[str, Any], a: str, b: str, reason: str) -> dict[str, Any]:
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
