"""The real-world modules table: for the runs of scenarios tagged `real-world`, each module they
compile, its size, and how long each runtime family took to compile it (the median and range
over the family's runtimes), from the compile steps' `wasm_bytes` and `compile_s`.

A pure function of a compat.json document: which module a compile step compiled is read from
the scenario's text the document embeds (`scenario_texts`), by the step's index.
"""

from __future__ import annotations

import posixpath
import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.errors import ScenarioError
from harness.scenario.loader import load_yaml

REAL_WORLD_TAG = "real-world"
PYTHON_PREFIX = "python:"  # as harness.scenario.installed spells a module in a Python package


@dataclass(frozen=True)
class CompileTimes:
    """One family's compile time of one module: over its runtimes, each runtime's median."""

    family: str
    runtimes: int
    median_s: float
    min_s: float
    max_s: float


@dataclass(frozen=True)
class RealWorldModule:
    module: str  # `xxhash-wasm/workerd/xxhash.wasm`: the package's path to it
    spelling: str  # as the scenarios give it
    folder: str  # the folder of a scenario that gives it so (a path is relative to it)
    size_bytes: int
    scenarios: tuple[str, ...]
    times: tuple[CompileTimes, ...]  # by family, in the document's runtime order

    @property
    def size(self) -> str:
        return human_size(self.size_bytes)


def module_label(spelling: str) -> str:
    """Where a package keeps the module: the path after `node_modules/` or `python:`."""
    if spelling.startswith(PYTHON_PREFIX):
        return spelling[len(PYTHON_PREFIX) :]
    if "node_modules/" in spelling:
        return spelling.rsplit("node_modules/", 1)[1]
    return spelling


def human_size(size: int) -> str:
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def real_world_modules(
    document: Mapping[str, Any], tag: str = REAL_WORLD_TAG
) -> list[RealWorldModule]:
    """One row per module that the runs tagged `tag` compiled, largest first. Only a run's first
    compile of a module counts (a later one may be a cache hit), and only one that succeeded."""
    families = {r["name"]: r.get("family") or "other" for r in document.get("runtimes") or []}
    order = list(dict.fromkeys(families.values()))
    texts = document.get("scenario_texts") or {}
    samples: dict[str, dict[str, dict[str, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    sizes: dict[str, int] = {}
    scenarios: dict[str, set[str]] = defaultdict(set)
    folders: dict[str, str] = {}
    steps_of: dict[str, list[Any]] = {}
    for run in document.get("runs") or []:
        if tag not in (run.get("tags") or ()) or "runtime" not in run:
            continue
        path = run.get("path") or ""
        if path not in steps_of:
            steps_of[path] = _steps(texts.get(path))
        seen: set[str] = set()
        for step in run.get("steps") or ():
            spelling = _compiled(steps_of[path], step, run.get("params") or {})
            detail = step.get("detail") or {}
            if spelling is None or spelling in seen or step.get("outcome") != "ok":
                continue
            seen.add(spelling)
            if "compile_s" not in detail or "wasm_bytes" not in detail:
                continue
            sizes[spelling] = int(detail["wasm_bytes"])
            scenarios[spelling].add(run["scenario"])
            folders.setdefault(spelling, posixpath.dirname(path))
            family = families.get(run["runtime"], run["runtime"].split("-")[0])
            samples[spelling][family][run["runtime"]].append(float(detail["compile_s"]))
    rows = [
        RealWorldModule(
            module=module_label(spelling),
            spelling=spelling,
            folder=folders[spelling],
            size_bytes=sizes[spelling],
            scenarios=tuple(sorted(scenarios[spelling])),
            times=_times(samples[spelling], order),
        )
        for spelling in samples
    ]
    return sorted(rows, key=lambda r: (-r.size_bytes, r.module))


def _times(
    by_family: Mapping[str, Mapping[str, list[float]]], order: list[str]
) -> tuple[CompileTimes, ...]:
    known = [f for f in order if f in by_family] + sorted(set(by_family) - set(order))
    out = []
    for family in known:
        per_runtime = [statistics.median(v) for v in by_family[family].values()]
        out.append(
            CompileTimes(
                family=family,
                runtimes=len(per_runtime),
                median_s=statistics.median(per_runtime),
                min_s=min(per_runtime),
                max_s=max(per_runtime),
            )
        )
    return tuple(out)


def _steps(text: str | None) -> list[Any]:
    """The scenario's steps as written; none when its text is missing or does not parse (the
    runs are still counted elsewhere; the table only lacks what it cannot name)."""
    if not text:
        return []
    try:
        data, _ = load_yaml(text, "<scenario>")
    except ScenarioError:
        return []
    steps = data.get("steps") if isinstance(data, dict) else None
    return steps if isinstance(steps, list) else []


def _compiled(steps: list[Any], step: Mapping[str, Any], params: Mapping[str, Any]) -> str | None:
    """The module a compile step compiled, as the scenario spells it, with `${name}` filled in."""
    index = step.get("index")
    if step.get("op") != "compile" or not isinstance(index, int) or not 0 <= index < len(steps):
        return None
    raw = steps[index]
    body = raw.get("compile") if isinstance(raw, dict) else None
    spelling = body.get("fixture") if isinstance(body, dict) else body
    if not isinstance(spelling, str):
        return None
    for name, value in params.items():
        spelling = spelling.replace("${" + str(name) + "}", str(value))
    return spelling
