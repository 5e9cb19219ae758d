"""wasm-compat's performance figures from one invocation: `tox -e bench`.

    a. isolation: an empty segment forked from a warm worker vs a fresh interpreter
    b. the bundled matrix on a subset of runtimes, -j1 vs -jN (N = cores); the full matrix at -jN
    c. the harness's wall time vs the runtime's own work (steps' in-process durations)
    d. a synthetic matrix ten times larger (the bundled scenarios replicated 10x)
    e. provisioning every runtime env with tox --notest (a wazero env's worker included):
       warm (fresh work dir, warm uv cache), then again over the existing envs; cold (empty
       uv cache, needs PyPI) with --cold
    f. the Go worker (wazero): its cost per segment beside the Python worker's fork and spawn,
       and the time to build every wazero env, cold and warm (benchmarks/wazero.py)
    g. result reuse on the full matrix: cold, fully cached, one scenario edited, one release
       added; cells run and the cache's size (benchmarks/reuse.py)

Every figure is printed next to its target. Nothing here is a test: timings vary by machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import reuse  # noqa: E402
import wazero  # noqa: E402
from measure import median_p90, segment_times, target  # noqa: E402

from harness.execution.pool import FORK, SPAWN  # noqa: E402
from harness.model.runtime import WorkerCommand  # noqa: E402
from harness.provision import go_worker  # noqa: E402
from harness.provision.toxenvs import load_project  # noqa: E402

# Every API era of wasmtime, and wasmer's usable compilers: a subset that keeps the bench short.
DEFAULT_RUNTIMES = (
    "wasmtime-0.30.0",
    "wasmtime-27.0.2",
    "wasmtime-50.0.1",
    "wasmer-1.1.0-universal-cranelift",
)
ISOLATION_RUNTIMES = ("wasmtime-50.0.1", "wasmtime-0.30.0")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runtimes",
        nargs="+",
        default=list(DEFAULT_RUNTIMES),
        help="runtimes for the matrix figures (b, c); `all` for every pinned one "
        f"(default: {' '.join(DEFAULT_RUNTIMES)})",
    )
    parser.add_argument(
        "--no-full",
        dest="full",
        action="store_false",
        help="skip the full matrix at -j1 and -jN (b; about 3 min on 2 cores)",
    )
    parser.add_argument("--segments", type=int, default=50, help="segments per figure (a, f)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="N of -jN (b, d)")
    parser.add_argument("--cold", action="store_true", help="also provision with an empty uv cache")
    parser.add_argument(
        "--skip",
        default="",
        help="letters of parts to skip, e.g. `e` (no provisioning), `abcdeg` (the Go worker only)",
    )
    options = parser.parse_args(argv)
    project = load_project(ROOT / "tox.ini")
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())  # other work skews every figure
    print(
        f"wasm-compat bench: {os.cpu_count()} cores (load average {load}), "
        f"Python {sys.version.split()[0]}, {ROOT}"
    )
    with tempfile.TemporaryDirectory(prefix="wasm-compat-bench-") as tmp:
        scratch = Path(tmp)
        empty: dict[str, dict[str, list[float]]] = {}  # a's samples, reused by f
        if "a" not in options.skip:
            empty = isolation(project, scratch / "a", options.segments)
        if "b" not in options.skip or "c" not in options.skip:
            matrix(options.runtimes, options.jobs, scratch / "b", options.full)
        if "d" not in options.skip:
            larger(options.jobs, scratch / "d")
        if "e" not in options.skip:
            provisioning(project, scratch / "e", options.cold)
        if "f" not in options.skip:
            runtime = wazero.PYTHON_RUNTIME
            wazero.section(project, scratch / "f", options.segments, empty.get(runtime, {}))
        if "g" not in options.skip:
            reuse.section(options.jobs, scratch / "g")
    return 0


# -- a -------------------------------------------------------------------------------------
def isolation(project: Any, scratch: Path, count: int) -> dict[str, dict[str, list[float]]]:
    """Prints the figures; returns the samples, by runtime and isolation, in seconds."""
    print(f"\na. per-segment isolation: an empty segment, {count} times each, median")
    samples = {}
    for name in ISOLATION_RUNTIMES:
        python = project.work_dir / name / "bin" / "python"
        if not python.exists():
            print(f"   {name}: not provisioned (tox -e {name}), skipped")
            continue
        worker = WorkerCommand.python(str(python), "wasmtime")
        samples[name] = {
            mode: segment_times(worker, mode, [], {}, scratch / name, count)
            for mode in (FORK, SPAWN)
        }
        fork, spawn = (median_p90(samples[name][mode])[0] for mode in (FORK, SPAWN))
        ratio = spawn / fork
        print(
            f"   {name:18} fork {fork:6.1f} ms   fresh interpreter {spawn:6.1f} ms   "
            f"{ratio:5.1f}x faster  {target(fork <= 5, '<= 5 ms')} {target(ratio >= 20, '>= 20x')}"
        )
    return samples


# -- b, c ----------------------------------------------------------------------------------
def run_cli(args: list[str], out: Path) -> tuple[float, float, dict[str, Any]]:
    """Wall time, CPU time (the CLI and every process under it) and compat.json of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "harness", "run", *args, "--reruns", "0"),
            *("--out", str(out), "--results-cache", str(out / "results-cache")),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise SystemExit(
            f"wasm-compat run {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}"
        )
    return wall, cpu, json.loads((out / "compat.json").read_text())


def own_work(doc: dict[str, Any]) -> tuple[float, float, int, dict[str, int]]:
    """Summed step durations (the runtime's own operations, measured in the worker), compile
    time, segments, and segments by isolation."""
    steps = [s for r in doc["runs"] for s in r["steps"] if s.get("duration_s")]
    compile_s = sum((s.get("detail") or {}).get("compile_s", 0.0) for s in steps)
    segments = [g for r in doc["runs"] for g in r.get("segments", [])]
    by_isolation: dict[str, int] = {}
    for g in segments:
        by_isolation[g.get("isolation", "?")] = by_isolation.get(g.get("isolation", "?"), 0) + 1
    return sum(s["duration_s"] for s in steps), compile_s, len(segments), by_isolation


def matrix(runtimes: list[str], jobs: int, scratch: Path, full: bool) -> None:
    selection = [arg for name in runtimes for arg in ("--runtime", name)]
    print(f"\nb. the bundled matrix on: {' '.join(runtimes)} (wasm-compat run --reruns 0)")
    wall_1, cpu_1, doc = run_cli([*selection, "-j", "1"], scratch / "j1")
    wall_n, _, _ = run_cli([*selection, "-j", str(jobs)], scratch / f"j{jobs}")
    runs = len(doc["runs"])
    usable = [r["name"] for r in doc["runtimes"] if r["status"] == "ok"]
    work, compile_s, segments, by_isolation = own_work(doc)
    speedup = wall_1 / wall_n
    print(f"   {runs} runs, {segments} segments ({by_isolation}) on {len(usable)} usable runtimes")
    print(
        f"   -j1 {wall_1:6.1f} s   -j{jobs} {wall_n:6.1f} s   speed-up {speedup:4.2f}x  "
        f"{target(speedup >= 1.8, '-j2 >= 1.8x faster than -j1')}"
    )
    busy = cpu_1 / wall_1
    cores = os.cpu_count() or 1
    print(
        f"   -j1 keeps {busy:.2f} cores busy (runtimes compile in parallel threads): "
        f"{cores} cores allow at most {cores / busy:.2f}x"
    )
    per_run = wall_n / runs
    print(f"   per run at -j{jobs}: {per_run * 1000:.0f} ms")
    if full:
        wall, _, doc_all = run_cli(["--runtime", "all", "-j", str(jobs)], scratch / "all")
        work_all, compile_all, segments_all, by_all = own_work(doc_all)
        ok = target(wall <= 60, "<= 60 s after provisioning")
        print(
            f"   full matrix (--runtime all, -j{jobs}): {len(doc_all['runs'])} runs, "
            f"{segments_all} segments {by_all}: {wall:.1f} s  {ok}"
        )
        print(
            f"     its steps' own in-process time at -j{jobs}: {work_all:.0f} s "
            f"(compile {compile_all:.0f} s): {work_all / cores:.0f} s per core before any harness"
        )
        # the subset above is short enough that the serial parts (probes, reports) weigh in
        wall_all_1, _, _ = run_cli(["--runtime", "all", "-j", "1"], scratch / "all-j1")
        full_speedup = wall_all_1 / wall
        print(
            f"   full matrix -j1 {wall_all_1:6.1f} s   -j{jobs} {wall:6.1f} s   speed-up "
            f"{full_speedup:4.2f}x  {target(full_speedup >= 1.8, '-j2 >= 1.8x faster than -j1')}"
        )
    else:
        print("   full matrix: not run (--no-full)  [target: <= 60 s after provisioning]")
    print("\nc. harness wall time vs the runtime's own work (the -j1 run)")
    ratio = wall_1 / work
    print(
        f"   wall {wall_1:.1f} s   steps' in-process time {work:.1f} s "
        f"(of it compile {compile_s:.1f} s)"
        f"   ratio {ratio:.2f}x  {target(ratio <= 1.5, '<= 1.5x')}"
    )


# -- d -------------------------------------------------------------------------------------
def larger(jobs: int, scratch: Path) -> None:
    runtime = "wasmtime-50.0.1"
    print(f"\nd. a matrix 10x larger: the bundled scenarios replicated 10x, on {runtime}, -j{jobs}")
    source = sorted((ROOT / "scenarios").glob("*.yaml"))
    figures = {}
    for times in (1, 10):
        folder = scratch / f"x{times}" / "scenarios"
        folder.mkdir(parents=True)
        for path in source:
            for copy in range(times):
                shutil.copy(path, folder / f"{path.stem}_r{copy}.yaml")
        args = [str(folder), "--fixtures", str(ROOT / "wasm_fixtures"), "--runtime", runtime]
        wall, _, doc = run_cli([*args, "-j", str(jobs)], scratch / f"x{times}" / "out")
        figures[times] = (wall, len(doc["runs"]))
    (wall_1, runs_1), (wall_10, runs_10) = figures[1], figures[10]
    print(f"   1x : {runs_1:5d} runs  {wall_1:6.1f} s  {wall_1 / runs_1 * 1000:5.0f} ms per run")
    print(
        f"   10x: {runs_10:5d} runs  {wall_10:6.1f} s  {wall_10 / runs_10 * 1000:5.0f} ms per run"
        f"   ({wall_10 / wall_1:.1f}x the time for {runs_10 / runs_1:.0f}x the runs)"
    )


# -- e -------------------------------------------------------------------------------------
def provisioning(project: Any, scratch: Path, cold: bool) -> None:
    envs = [spec.name for spec in project.specs]
    tox = shutil.which("tox")
    parallel = str(4 * (os.cpu_count() or 1))  # uv links from its cache: I/O, not CPU
    print(
        f"\ne. provisioning all {len(envs)} runtime envs: tox run-parallel -p {parallel} --notest"
    )
    if tox is None:
        print("   tox is not installed here, skipped")
        return
    work = scratch / "tox"
    passes: list[tuple[str, dict[str, str]]] = [
        ("warm uv cache, fresh work dir", {}),
        ("again, envs exist", {}),
    ]
    if cold:
        passes.insert(
            0,
            (
                "cold: empty uv cache, fresh work dir (PyPI)",
                {"UV_CACHE_DIR": str(scratch / "uv-cache")},
            ),
        )
    for label, extra in passes:
        if label.startswith("cold") or label.startswith("warm"):
            shutil.rmtree(work, ignore_errors=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOX_")}
        env.update(extra)
        started = time.perf_counter()
        proc = subprocess.run(
            [
                tox,
                "run-parallel",
                "--workdir",
                str(work),
                "-p",
                parallel,
                "--notest",
                "-e",
                ",".join(envs),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        # made: the interpreter, and a wazero env's worker (or the file saying why it has none)
        made = sum(
            1
            for spec in project.specs
            if (work / spec.name / "bin" / "python").exists()
            and (not spec.is_go or go_worker.env_state(work / spec.name).provisioned)
        )
        note = "" if proc.returncode == 0 else f" (tox exited {proc.returncode})"
        shown = target(wall <= 5, "warm <= 5 s") if not label.startswith("cold") else ""
        print(f"   {label:45} {wall:6.1f} s  {made}/{len(envs)} envs{note}  {shown}")


if __name__ == "__main__":
    sys.exit(main())
