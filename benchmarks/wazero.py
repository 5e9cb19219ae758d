"""Section f of the bench: the Go worker (wazero), beside the Python worker.

    f1. the cost of a segment: empty, and compile+instantiate+call of `add`, for the Python
        worker forked from its warm worker and spawned fresh (wasmtime), and for the Go worker
        (started fresh for every segment) with each of wazero's engines
    f2. building the Go worker against every pinned wazero release: cold (an empty GOCACHE and
        wasm-compat cache in a temp dir; the user's GOMODCACHE), warm (every build cached), a
        rebuild (as after an edit of the worker: warm GOCACHE, empty wasm-compat cache), and
        provisioning every wazero env from the cache (`go_worker.install`)

Only temp dirs are created or deleted: the user's caches are read (GOMODCACHE, and the
wasm-compat cache for the 1.12.0 worker of f1) and never emptied.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from measure import ROOT, median_p90, segment_times

from harness.execution.pool import FORK, SPAWN
from harness.model.runtime import WorkerCommand
from harness.model.step import StepJson
from harness.paths import CACHE_ENV
from harness.provision import go_worker
from harness.scenario.fixtures import FixtureBuilder

RELEASE = "1.12.0"  # the Go worker's release for f1, as the conformance suite's
PYTHON_RUNTIME = "wasmtime-50.0.1"
ENGINES = ("compiler", "interpreter")
EMPTY, CALL = "empty", "compile+instantiate+call"

# What a segment of compile_call_close.yaml sends, without its close: the wire format of
# tests/conformance/steps.py, `add(2, 40)` expected to be 42.
CALL_STEPS: list[StepJson] = [
    {
        "index": 0,
        "op": "compile",
        "line": 1,
        "expect": {"kind": "ok"},
        "args": {"fixture": "add", "as": "m", "engine": {}},
    },
    {
        "index": 1,
        "op": "instantiate",
        "line": 2,
        "expect": {"kind": "ok"},
        "args": {
            "module": "m",
            "as": "i",
            "store": "s",
            "imports": [],
            "wasi": {"args": [], "env": {}},
            "fuel": None,
        },
    },
    {
        "index": 2,
        "op": "call",
        "line": 3,
        "expect": {"kind": "ok"},
        "args": {
            "instance": "i",
            "export": "add",
            "args": [{"type": "i32", "value": 2}, {"type": "i32", "value": 40}],
            "results": [{"type": "i32", "value": 42}],
        },
    },
]

# (row label, segment kind) -> wall times in seconds
Samples = dict[tuple[str, str], list[float]]


def section(
    project: Any, scratch: Path, count: int, empty_forks: Mapping[str, list[float]]
) -> None:
    """`empty_forks`: section a's empty segments of PYTHON_RUNTIME by isolation, when it ran."""
    print(f"\nf. the Go worker (wazero) beside the Python worker ({PYTHON_RUNTIME})")
    try:
        go_worker.go_command()
    except go_worker.GoMissing as exc:
        print(f"   {exc}: skipped")
        return
    segment_cost(project, scratch / "segments", count, empty_forks)
    specs = [spec for spec in project.specs if spec.family == "wazero"]
    builds(specs, scratch / "builds")


# -- f1 ------------------------------------------------------------------------------------
def segment_cost(
    project: Any, scratch: Path, count: int, empty_forks: Mapping[str, list[float]]
) -> None:
    python = project.work_dir / PYTHON_RUNTIME / "bin" / "python"
    if not python.exists():
        print(f"   {PYTHON_RUNTIME}: not provisioned (tox -e {PYTHON_RUNTIME}), f1 skipped")
        return
    binary = go_worker.build(RELEASE)
    fixtures = {"add": str(FixtureBuilder(ROOT / "wasm_fixtures").build("add"))}
    py = WorkerCommand.python(str(python), "wasmtime")
    rows = [
        ("Python worker, forked", py, FORK),
        ("Python worker, spawned fresh", py, SPAWN),
        *[(f"Go worker, {e}", WorkerCommand((str(binary),), "wazero", e), SPAWN) for e in ENGINES],
    ]
    samples: Samples = {}
    for label, worker, mode in rows:
        for kind, steps in ((EMPTY, []), (CALL, CALL_STEPS)):
            reused = empty_forks.get(mode) if kind == EMPTY and worker is py else None
            work = scratch / f"{label}-{kind}".replace(" ", "_").replace(",", "")
            samples[label, kind] = reused or segment_times(
                worker, mode, steps, fixtures, work, count
            )
    print(f"   wall time per segment, median / p90 in ms, {count} of each (wazero {RELEASE};")
    print("   the Go worker starts afresh for every segment, the Python worker forks or spawns)")
    print_cost(samples, [label for label, _, _ in rows], bool(empty_forks))


def print_cost(samples: Samples, labels: list[str], reused: bool) -> None:
    fork = labels[0]
    print(f"   {'':30} {EMPTY:>31}   {CALL:>31}")
    for label in labels:
        cells = []
        for kind in (EMPTY, CALL):
            median, p90 = median_p90(samples[label, kind])
            base, _ = median_p90(samples[fork, kind])
            cells.append(f"{median:7.1f} / {p90:7.1f} ({median / base:5.1f}x fork)")
        print(f"   {label:30} {cells[0]}   {cells[1]}")
    spawn = labels[1]
    for label in labels[2:]:
        ratios = [
            median_p90(samples[spawn, kind])[0] / median_p90(samples[label, kind])[0]
            for kind in (EMPTY, CALL)
        ]
        print(
            f"   a fresh Python worker takes {ratios[0]:.1f}x ({EMPTY}), {ratios[1]:.1f}x "
            f"({CALL}) the time of the Go worker, {label.partition(', ')[2]}"
        )
    if reused:
        print(f"   (the Python worker's {EMPTY} figures are section a's samples)")


# -- f2 ------------------------------------------------------------------------------------
def builds(specs: list[Any], scratch: Path) -> None:
    releases = sorted({spec.version for spec in specs}, key=_release_key)
    env, modcache = build_env(scratch)
    cached = sum(1 for version in releases if _in_modcache(modcache, version))
    print(
        f"\n   building the Go worker against {len(releases)} wazero releases "
        f"({len(specs)} envs), one after another"
    )
    print(f"   GOMODCACHE is yours ({modcache}), kept: nothing is downloaded but what it")
    print(
        f"   lacks, from the Go module proxy ({_go_env('GOPROXY')}); it held "
        f"{cached} of the {len(releases)} releases"
    )
    cold = timed_builds(releases, env)
    for version, seconds in cold.items():
        first = version == releases[0]
        note = "  (with the standard library, compiled into the empty GOCACHE)" if first else ""
        print(f"     wazero {version:8} {seconds:6.1f} s{note}")
    show("cold: empty GOCACHE and wasm-compat cache (temp dirs)", sum(cold.values()))
    show("warm: the same again, every build cached", sum(timed_builds(releases, env).values()))
    rebuild = timed_builds(releases, {**env, CACHE_ENV: str(scratch / "wasm-compat-rebuild")})
    show("rebuild: warm GOCACHE, empty wasm-compat cache", sum(rebuild.values()))
    print("     (go get and link only: an edit of the worker's sources adds compiling its package)")
    seconds, made = provision(specs, scratch / "envs", env)
    show(f"warm provisioning of {len(specs)} envs into a fresh work dir", seconds)
    print(f"     (go_worker.install: copies of the cached binaries; {made} envs hold a worker)")


def show(label: str, seconds: float) -> None:
    print(f"   {label:55} {seconds:7.2f} s")


def build_env(scratch: Path) -> tuple[dict[str, str], str]:
    """This environment with an empty GOCACHE and wasm-compat cache under `scratch`, and the
    user's own GOMODCACHE named explicitly (so `go` never looks for modules under `scratch`)."""
    modcache = _go_env("GOMODCACHE")
    env = {
        **os.environ,
        "GOCACHE": str(scratch / "gocache"),
        CACHE_ENV: str(scratch / "wasm-compat"),
        "GOMODCACHE": modcache,
    }
    return env, modcache


def timed_builds(releases: list[str], env: Mapping[str, str]) -> dict[str, float]:
    """Seconds of `go_worker.build` per release; a release that does not build says why."""
    seconds = {}
    for version in releases:
        started = time.perf_counter()
        try:
            go_worker.build(version, env)
        except go_worker.BuildFailed as exc:
            print(f"     {version}: does not build: {exc}")
        seconds[version] = time.perf_counter() - started
    return seconds


def provision(specs: list[Any], work: Path, env: Mapping[str, str]) -> tuple[float, int]:
    """Seconds to install every env's worker from the cache, and how many got one."""
    started = time.perf_counter()
    states = [go_worker.install(spec.version, work / spec.name, env) for spec in specs]
    seconds = time.perf_counter() - started
    return seconds, sum(1 for state in states if state.worker is not None)


def _in_modcache(modcache: str, version: str) -> bool:
    download = Path(modcache) / "cache" / "download" / go_worker.MODULE / "@v"
    return (download / f"v{version}.zip").is_file()


def _go_env(name: str) -> str:
    done = subprocess.run(
        [go_worker.go_command(), "env", name], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _release_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
