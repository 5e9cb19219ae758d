"""Section g of the bench: result reuse on the full matrix (`--runtime all`), from one invocation.

    g1. cold: an empty result cache, so every run and probe runs
    g2. fully cached: the same again, nothing changed
    g3. one scenario edited (a comment appended to a copy of it, which replaces it): its row runs
    g4. one release added: the cache as it was before that release was pinned (the kept runs
        whose inputs name it removed from a copy), so its column and its upgrade pairs run

Each line gives the wall time (the median of three for g2-g4: another edit each time for g3, a
fresh copy each time for g4) and the cells that ran (neither reused nor unable to run). Only
temp dirs are written: the user's result cache is never read or touched.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from measure import ROOT, target

from harness.reuse.store import size_on_disk
from harness.scenario.loader import discover

EDITED = "cache_dir_restart"  # the motivating lifecycle: one case, a plain run on each runtime
ADDED = "wasmtime-39.0.0"  # not the newest of its family, so no other run's producer


def section(
    jobs: int, scratch: Path, edited: str = EDITED, added: str = ADDED, repeat: int = 3
) -> None:
    print(f"\ng. result reuse on the full matrix (--runtime all, -j{jobs}, --reruns 0)")
    print(f"   median (range) of {repeat} for every phase after the cold one")
    scratch.mkdir(parents=True, exist_ok=True)
    cache = scratch / "cache"
    files = discover([ROOT / "scenarios"])
    before = scratch / "before"
    phases: list[tuple[str, int, Callable[[int], tuple[list[Path], Path]], float | None]] = [
        ("cold: an empty result cache", 1, lambda n: (files, cache), None),
        ("fully cached: nothing changed", repeat, lambda n: (files, cache), 5.0),
        # each time another edit, so each time its row runs
        (
            f"one scenario edited ({edited})",
            repeat,
            lambda n: (_edited_copy(files, edited, scratch / f"edited-{n}", n), cache),
            10.0,
        ),
        # made when its turn comes, from the cache the phases before it filled
        (
            f"one release added ({added})",
            repeat,
            lambda n: (files, _without(cache, added, before)),
            None,
        ),
    ]
    for label, times, inputs, limit in phases:
        walls, ran, total, odd = [], 0, 0, 0
        for n in range(times):
            paths, results = inputs(n)
            wall, doc = _run(paths, results, jobs, scratch / "out")
            walls.append(wall)
            cells = [r for r in doc["runs"] if not r.get("reused") and r["status"] != "not_run"]
            ran, total = len(cells), len(doc["runs"])
            sides = [(r.get("runtime"), r.get("from"), r.get("to")) for r in cells]
            odd = sum(1 for names in sides if added not in names)
        _show(label, walls, ran, total, limit)
        if label.startswith("one release"):
            print(f"     of them on {added} or in a pair with it: {ran - odd}")
    entries, size = size_on_disk(cache)
    print(f"   the cache: {entries} entries, {size / 2**20:.1f} MiB on disk")


def _show(label: str, walls: list[float], ran: int, total: int, limit: float | None) -> None:
    middle = statistics.median(walls)
    spread = f" ({min(walls):.1f}-{max(walls):.1f})" if len(walls) > 1 else ""
    shown = target(middle <= limit, f"<= {limit:g} s") if limit else ""
    print(f"   {label:44} {middle:6.1f} s{spread:13} {ran:5d} of {total} cells ran  {shown}")


def _run(paths: list[Path], cache: Path, jobs: int, out: Path) -> tuple[float, dict[str, Any]]:
    shutil.rmtree(out, ignore_errors=True)
    command = [
        sys.executable, "-m", "harness", "run", *map(str, paths),
        "--fixtures", str(ROOT / "wasm_fixtures"), "--tox-ini", str(ROOT / "tox.ini"),
        "--runtime", "all", "-j", str(jobs), "--reruns", "0", "--out", str(out),
        "--results-cache", str(cache),
    ]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"wasm-compat run failed ({proc.returncode}):\n{proc.stderr}")
    return wall, json.loads((out / "compat.json").read_text())


def _edited_copy(files: list[Path], name: str, folder: Path, edit: int) -> list[Path]:
    """The scenario files with `name` replaced by a copy with comment number `edit` appended."""
    original = next(p for p in files if p.stem == name)
    folder.mkdir(parents=True, exist_ok=True)
    edited = folder / original.name
    edited.write_text(original.read_text() + f"# edit {edit} by the bench: a new text, a new row\n")
    return [edited if p == original else p for p in files]


def _without(cache: Path, runtime: str, copy: Path) -> Path:
    """A copy of the cache without the runs whose inputs name `runtime`: the cache as it was
    before that release was pinned (its probe is dropped too)."""
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(cache, copy)
    for path in (copy / "runs").glob("*/*.json"):
        inputs = json.loads(path.read_bytes()).get("inputs") or {}
        if any(name == runtime for _, name, _ in inputs.get("runtimes") or []):
            path.unlink()
    for path in (copy / "runtimes").glob("*/*.json"):
        if json.loads(path.read_bytes()).get("body", {}).get("name") == runtime:
            path.unlink()
    return copy
