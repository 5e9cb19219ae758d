"""The commands that run scenarios: `validate` (load them and build their fixtures) and `run`
(on the requested runtimes, diffed, written, gated), with `--resume` for one cut short."""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness.analysis import baseline, gate
from harness.cli import arguments, verdict
from harness.cli.matrix_run import MatrixRun, Recorder
from harness.errors import ExitCode, HarnessError, RuntimeSelectionError
from harness.execution import coordinator as session
from harness.execution.pool import WorkerPool
from harness.execution.run import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, select
from harness.model.record import run_key
from harness.model.runtime import Runtime
from harness.plan import matrix
from harness.provision.toxenvs import load_project
from harness.report import console
from harness.reuse.session import Reuse, RuntimeProbes, run_context
from harness.reuse.store import default_root
from harness.scenario.suite import load_suite
from harness.store.results import ResultsWriter, now, read_jsonl


def add_validate(sub: arguments.Subparsers) -> None:
    validate = sub.add_parser("validate", help="check scenario files and build their fixtures")
    arguments.add_suite(validate)
    validate.set_defaults(handler=cmd_validate)


def add_run(sub: arguments.Subparsers) -> None:
    run = sub.add_parser("run", help="run scenarios on runtimes, diff them, write results")
    arguments.add_suite(run)
    arguments.add_out(run)
    run.add_argument(
        "--timeout",
        type=arguments.seconds,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds a segment may run unless its scenario sets a timeout "
        f"(default: {DEFAULT_TIMEOUT_S:g})",
    )
    run.add_argument(
        "--memory-mb",
        type=arguments.memory_mb,
        default=DEFAULT_MEMORY_MB,
        help=f"memory cap of each segment process in MiB (default: {DEFAULT_MEMORY_MB})",
    )
    run.add_argument(
        "-k", dest="pattern", metavar="PATTERN", help="only scenarios whose id or a tag has PATTERN"
    )
    _add_runtime_choice(run)
    arguments.add_tox_ini(run)
    run.add_argument(
        "--reruns",
        type=arguments.reruns,
        default=session.DEFAULT_RERUNS,
        help="times a run that differs from its neighbour is rerun before it is reported "
        f"(default: {session.DEFAULT_RERUNS})",
    )
    run.add_argument(
        "--cross-family", action="store_true", help="also run upgrade pairs across families"
    )
    run.add_argument(
        "-j",
        "--jobs",
        type=arguments.jobs,
        default=os.cpu_count() or 1,
        help="runs at a time (default: the number of cores); results do not depend on it",
    )
    arguments.add_baseline(run)
    arguments.add_required(run)
    _add_keep_and_resume(run)
    _add_reuse(run)
    run.set_defaults(handler=cmd_run)


def _add_runtime_choice(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "--runtime",
        action="append",
        default=[],
        metavar="NAME",
        help="a runtime pinned in tox.ini, by name, glob or version prefix "
        "(wasmtime-33.0.0, 'wasmer-*', wasmtime-33), or `all` (repeatable)",
    )
    run.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="INTERPRETER",
        help="run on the runtime installed for this interpreter (repeatable; "
        "default without --runtime: this one)",
    )


def _add_keep_and_resume(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "--keep-work", action="store_true", help="keep the work dirs of passing runs too"
    )
    run.add_argument(
        "--resume",
        type=arguments.output_dir,
        metavar="OUT",
        help="finish a run that was cut short, from OUT/results.jsonl, with its own options "
        "(only -j is taken from this command line)",
    )


def _add_reuse(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "--fresh",
        action="store_true",
        help="run everything, reusing no kept result (what runs is still kept)",
    )
    run.add_argument(
        "--results-cache",
        type=arguments.output_dir,
        default=None,
        metavar="DIR",
        help="where runs and probes are kept for reuse, by their inputs "
        f"(default: {default_root()}, or under $WASM_COMPAT_CACHE)",
    )


def cmd_validate(options: argparse.Namespace) -> ExitCode:
    suite = load_suite(options.paths, options.fixtures, build=True)
    for error in suite.errors:
        print(error, file=sys.stderr)
    total = len(suite.cases())
    print(
        f"{len(suite.scenarios)} scenario(s), {total} run(s) per runtime; "
        f"{len(suite.errors)} error(s)"
    )
    return ExitCode.USAGE_ERROR if suite.errors else ExitCode.OK


# The options a run records in results.jsonl's header, so that `--resume` repeats them.
RESUMABLE = (
    "paths",
    "fixtures",
    "pattern",
    "runtime",
    "python",
    "tox_ini",
    "timeout",
    "memory_mb",
    "reruns",
    "cross_family",
    "keep_work",
    "baseline",
    "require_runtimes",
    "fresh",
    "results_cache",
)


def _recorded_options(options: argparse.Namespace) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value.resolve())
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {key: plain(getattr(options, key)) for key in RESUMABLE}


_RECORDED_NUMBERS = {
    "timeout": arguments.seconds,
    "memory_mb": arguments.memory_mb,
    "reruns": arguments.reruns,
}


def _resumed(options: argparse.Namespace) -> tuple[argparse.Namespace, dict[str, Any]]:
    """The options of the run being resumed, and what it recorded before it was cut short."""
    out: Path = options.resume
    jsonl = out / "results.jsonl"
    if not jsonl.exists():
        raise HarnessError(f"--resume {out}: no results.jsonl there to resume")
    previous = read_jsonl(jsonl)
    if not previous["options"]:
        raise HarnessError(f"{jsonl}: written by a wasm-compat that cannot resume it; run again")
    restored = argparse.Namespace(**vars(options))
    for key in RESUMABLE:
        value = previous["options"].get(key, getattr(options, key))
        if key == "paths":
            value = [Path(v) for v in value]
        elif key in ("fixtures", "tox_ini", "baseline") and value is not None:
            value = Path(value)  # recorded as absolute strings by _recorded_options
        elif key in _RECORDED_NUMBERS:  # a file's numbers are checked as the command line's
            try:
                value = _RECORDED_NUMBERS[key](str(value))
            except argparse.ArgumentTypeError as exc:
                raise HarnessError(f"{jsonl}: recorded option '{key}': {exc}") from None
        setattr(restored, key, value)
    restored.out = out
    return restored, previous


def cmd_run(options: argparse.Namespace) -> ExitCode:
    with WorkerPool() as pool:  # the run's worker processes end with it
        return _run(options, pool)


def _run(options: argparse.Namespace, pool: WorkerPool) -> ExitCode:
    previous: dict[str, Any] = {"runs": [], "runtimes": []}
    if options.resume:
        options, previous = _resumed(options)
    suite = load_suite(options.paths, options.fixtures, build=True)
    if suite.errors:
        for error in suite.errors:
            print(error, file=sys.stderr)
        return ExitCode.USAGE_ERROR
    cases = select(suite.cases(), options.pattern)
    if not cases:
        raise HarnessError(f"no scenario matches -k {options.pattern!r}")
    entries = baseline.load(options.baseline)
    started = previous.get("started") or now()
    runtimes = _requested_runtimes(options, options.out, pool)
    writer = _open_results(options, runtimes, previous["runtimes"])
    everything = session.plan(cases, runtimes, options.cross_family)
    reuse = Reuse(
        _results_cache(options),
        run_context(options.memory_mb, pool.isolation),
        suite,
        options.timeout,
        fresh=options.fresh,
    )
    recorder = Recorder(writer, list(previous["runs"]), reuse)
    planned = _still_to_run(options, everything, recorder)
    runtime_records = [r.to_json() for r in runtimes]
    matrix_run = MatrixRun(options, pool, suite, everything, runtime_records)
    document = matrix_run.execute(planned, recorder, started, entries)
    return verdict.report_runs(document, options.baseline)


def _still_to_run(
    options: argparse.Namespace, everything: list[session.Planned], recorder: Recorder
) -> list[session.Planned]:
    """The planned runs that neither a resumed run recorded nor the result cache holds."""
    done = {run_key(r) for r in recorder.runs}
    planned = [p for p in everything if p.key not in done]
    if options.resume:
        print(f"resuming {options.out}: {len(done)} run(s) recorded, {len(planned)} to go")
    reused, planned = recorder.reuse.partition(planned)
    recorder.reused(reused)
    blocked = sum(1 for p in planned if p.blocked)
    root, fresh = recorder.reuse.root, options.fresh
    print(console.reuse_line(len(reused), len(planned), blocked, root, fresh))
    return planned


def _results_cache(options: argparse.Namespace) -> Path:
    return options.results_cache or default_root()


def _open_results(
    options: argparse.Namespace, runtimes: list[Runtime], recorded: list[dict[str, Any]]
) -> ResultsWriter:
    """results.jsonl, with the runtimes a resumed run had not recorded yet; printing which ran,
    and refusing to go on when none can."""
    writer = ResultsWriter(options.out, _recorded_options(options), resume=bool(options.resume))
    recorded_runtimes = {r.get("name") for r in recorded}
    for runtime in runtimes:
        if runtime.name not in recorded_runtimes:
            writer.runtime(runtime.to_json())
    print("\n".join(gate.coverage_lines({"runtimes": [r.to_json() for r in runtimes]})))
    if not any(r.unavailable is None for r in runtimes):
        writer.close()
        raise RuntimeSelectionError(
            "no usable runtime (install one, e.g. `pip install wasmtime`, provision tox envs "
            "with `tox`, or pass --python)"
        )
    return writer


def _requested_runtimes(options: argparse.Namespace, out: Path, pool: WorkerPool) -> list[Runtime]:
    probes = RuntimeProbes(_results_cache(options), out / "work" / ".probe", pool, options.fresh)
    found = [probes.python(python) for python in options.python]
    if options.runtime:
        project = load_project(options.tox_ini)
        patterns = [] if "all" in options.runtime else options.runtime
        try:
            specs = matrix.select(project.specs, patterns)
        except ValueError as exc:
            raise RuntimeSelectionError(f"{project.ini}: {exc}") from None
        # probes start each runtime's warm worker: in parallel, each in its own scratch dir
        with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as threads:
            found += threads.map(lambda spec: probes.pinned(project, spec), specs)
    if not found:
        found.append(probes.python(sys.executable))
    return found
