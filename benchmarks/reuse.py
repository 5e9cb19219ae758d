"""Section g of the bench: result reuse on the full matrix (`--runtime all`), from one invocation.

    g1. cold: an empty result cache, so every run and probe runs
    g2. fully cached: the same again, nothing changed
    g3. one scenario edited (a comment appended to a copy of it, which replaces it): its row runs
    g4. one release added: the cache as it was before that release was pinned (the kept runs
        whose inputs name it removed from a copy), so its column and its upgrade pairs run

Each line gives the wall time and the cells that ran (neither reused nor unable to run). Only
temp dirs are written: the user's result cache is never read or touched.
"""

from __future__ import annotations

import json
import shutil
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


def section(jobs: int, scratch: Path, edited: str = EDITED, added: str = ADDED) -> None:
    print(f"\ng. result reuse on the full matrix (--runtime all, -j{jobs}, --reruns 0)")
    scratch.mkdir(parents=True, exist_ok=True)
    cache = scratch / "cache"
    files = discover([ROOT / "scenarios"])
    copy = _edited_copy(files, edited, scratch / "edited")
    phases: list[tuple[str, list[Path], Callable[[], Path], float | None]] = [
        ("cold: an empty result cache", files, lambda: cache, None),
        ("fully cached: nothing changed", files, lambda: cache, 5.0),
        (f"one scenario edited ({edited})", copy, lambda: cache, 10.0),
        # made when its turn comes: from the cache the phases before it filled
        (f"one release added ({added})", files, lambda: _without(cache, added, before), None),
    ]
    before = scratch / "before"
    for label, paths, results, limit in phases:
        wall, doc = _run(paths, results(), jobs, scratch / "out")
        ran = [r for r in doc["runs"] if not r.get("reused") and r["status"] != "not_run"]
        shown = target(wall <= limit, f"<= {limit:g} s") if limit else ""
        print(
            f"   {label:44} {wall:6.1f} s  {len(ran):5d} of {len(doc['runs'])} cells ran  {shown}"
        )
        if label.startswith("one release"):
            odd = [r for r in ran if added not in (r.get("runtime"), r.get("from"), r.get("to"))]
            print(f"     of them on {added} or in a pair with it: {len(ran) - len(odd)}")
    entries, size = size_on_disk(cache)
    print(f"   the cache: {entries} entries, {size / 2**20:.1f} MiB on disk")


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


def _edited_copy(files: list[Path], name: str, folder: Path) -> list[Path]:
    """The scenario files with `name` replaced by a copy that has a comment appended."""
    original = next(p for p in files if p.stem == name)
    folder.mkdir(parents=True, exist_ok=True)
    edited = folder / original.name
    edited.write_text(original.read_text() + "# edited by the bench: a new text, a new row\n")
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
