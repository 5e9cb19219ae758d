"""Several result sets read as one: what `diff`, `report` and `merge` work on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.model.record import run_key
from harness.store.results import read_results


def joined(paths: list[Path]) -> dict[str, Any]:
    """Several result sets as one: runtimes by name, runs by (scenario, params, runtime), and
    each one's recorded host (`sources`). A runtime that ran wins over one that did not, and a
    run over a `not_run` placeholder, whichever result set comes first."""
    runtimes: dict[str, dict[str, Any]] = {}
    runs: dict[tuple[str, str, str], dict[str, Any]] = {}
    started = ""
    sources: list[tuple[str, dict[str, Any] | None]] = []
    for path in paths:
        document = read_results(path)
        sources.append((str(path), document.get("host")))
        started = min(filter(None, [started, document.get("started", "")]), default="")
        for runtime in document["runtimes"]:
            if runtimes.get(runtime["name"], {}).get("status") != "ok":
                runtimes[runtime["name"]] = runtime
        for run in document["runs"]:
            key = run_key(run)
            if key not in runs or runs[key]["outcome"] == "not_run":
                runs[key] = run
    return {
        "runtimes": list(runtimes.values()),
        "runs": list(runs.values()),
        "started": started,
        "sources": sources,
    }
