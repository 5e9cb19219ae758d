"""The `wasm-compat` command line: validate, run, runtimes, diff, baseline, merge."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import harness
from harness import report
from harness.analysis import baseline, diff, gate
from harness.cli import search as cli_search
from harness.errors import ExitCode, HarnessError, RuntimeSelectionError
from harness.execution import coordinator as session
from harness.execution import forkserver
from harness.execution.probe import probe, runtime_state
from harness.execution.run import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, select
from harness.execution.shards import missing_upgrade_runs
from harness.host import Provenance, current_host, provenance
from harness.model.runtime import Runtime
from harness.plan import matrix
from harness.provision.toxenvs import find_tox_ini, load_project, required_runtimes
from harness.report import console, findings
from harness.scenario import scaffold
from harness.scenario.suite import load_suite
from harness.store.results import ResultsWriter, compat_document, now, read_results, write_compat


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wasm-compat",
        description="Run WebAssembly lifecycle scenarios against runtime versions.",
    )
    parser.add_argument("--version", action="version", version=f"wasm-compat {harness.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    validate = sub.add_parser("validate", help="check scenario files and build their fixtures")
    _add_suite_arguments(validate)

    run = sub.add_parser("run", help="run scenarios on runtimes, diff them, write results")
    _add_suite_arguments(run)
    _add_out(run)
    run.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds a segment may run unless its scenario sets a timeout "
        f"(default: {DEFAULT_TIMEOUT_S:g})",
    )
    run.add_argument(
        "--memory-mb",
        type=int,
        default=DEFAULT_MEMORY_MB,
        help=f"memory cap of each segment process in MiB (default: {DEFAULT_MEMORY_MB})",
    )
    run.add_argument(
        "-k", dest="pattern", metavar="PATTERN", help="only scenarios whose id or a tag has PATTERN"
    )
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
    _add_tox_ini(run)
    run.add_argument(
        "--reruns",
        type=int,
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
        type=int,
        default=os.cpu_count() or 1,
        help="runs at a time (default: the number of cores); results do not depend on it",
    )
    _add_baseline(run)
    _add_required(run)
    run.add_argument(
        "--keep-work", action="store_true", help="keep the work dirs of passing runs too"
    )
    run.add_argument(
        "--resume",
        type=Path,
        metavar="OUT",
        help="finish a run that was cut short, from OUT/results.jsonl, with its own options "
        "(only -j is taken from this command line)",
    )

    runtimes = sub.add_parser("runtimes", help="list the runtimes pinned in tox.ini")
    _add_tox_ini(runtimes)

    diff_cmd = sub.add_parser("diff", help="transitions between runtimes in saved results")
    diff_cmd.add_argument(
        "results",
        nargs="*",
        type=Path,
        default=[Path("reports")],
        metavar="RESULTS",
        help="result dirs or compat.json files, joined (default: reports/)",
    )
    diff_cmd.add_argument("--all", action="store_true", help="list `same` transitions too")
    _add_baseline(diff_cmd)
    _add_required(diff_cmd)
    _add_tox_ini(diff_cmd)

    base = sub.add_parser("baseline", help="manage the accepted breaks")
    base_sub = base.add_subparsers(dest="action", required=True)
    accept = base_sub.add_parser("accept", help="accept every current break")
    accept.add_argument(
        "results",
        nargs="?",
        type=Path,
        default=Path("reports"),
        help="result dir or compat.json (default: reports/)",
    )
    _add_baseline(accept)

    render = sub.add_parser(
        "report", help="write compat.html, junit.xml and summary.md from saved results"
    )
    render.add_argument(
        "results",
        nargs="+",
        type=Path,
        metavar="RESULTS",
        help="result dirs or compat.json files, joined",
    )
    _add_out(render)
    _add_baseline(render)
    _add_required(render)
    _add_tox_ini(render)
    render.add_argument(
        "--findings",
        nargs="?",
        type=Path,
        const=Path("docs/findings.md"),
        metavar="FILE",
        help="also write every break, fix, drift and flaky transition as Markdown "
        "(default FILE: docs/findings.md)",
    )

    merge = sub.add_parser("merge", help="join shards' results into one result set and diff")
    merge.add_argument("shards", nargs="+", type=Path, metavar="DIR", help="shard result dirs")
    _add_out(merge)
    merge.add_argument(
        "--run-missing",
        action="store_true",
        help="run upgrade pairs whose runtimes sat in different shards (needs both here)",
    )
    _add_tox_ini(merge)
    _add_baseline(merge)
    _add_required(merge)
    merge.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help=argparse.SUPPRESS)
    merge.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB, help=argparse.SUPPRESS)

    cli_search.add_parsers(sub)

    new = sub.add_parser("new", help="write a commented scenario skeleton that validates")
    new.add_argument("name", help="the scenario's name (a-z, 0-9, _): scenarios/NAME.yaml")
    new.add_argument(
        "--from",
        dest="template",
        default="basic",
        metavar="TEMPLATE",
        help=f"one of {', '.join(scaffold.TEMPLATES)} (default basic), or a scenario file",
    )
    new.add_argument("--dir", type=Path, default=Path("scenarios"), help="default: scenarios/")
    sub.add_parser("schema", help="print the scenario JSON Schema (for editors)")
    return parser


def _add_suite_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="scenario files or directories (default: scenarios/)",
    )
    parser.add_argument(
        "--fixtures", type=Path, help="fixture directory (default: the nearest wasm_fixtures/)"
    )


def _add_out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=Path("reports"), help="output directory (default: reports/)"
    )


def _add_tox_ini(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tox-ini", type=Path, help="the tox.ini pinning the runtimes (default: the nearest one)"
    )


def _add_baseline(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--baseline",
        type=Path,
        default=baseline.DEFAULT_PATH,
        help=f"accepted breaks (default: {baseline.DEFAULT_PATH})",
    )


def _add_required(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--require-runtimes",
        action="append",
        default=[],
        metavar="PATTERN",
        help="runtimes that must run, or the gate fails with their reason (repeatable; a name, "
        "glob, version prefix or family; `all`, `none`; default: tox.ini's "
        "[wasm-compat] require_runtimes, else all)",
    )


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    try:
        code: ExitCode = COMMANDS[options.command](options)
        return int(code)
    except HarnessError as exc:
        print(f"wasm-compat: {exc}", file=sys.stderr)
        return int(ExitCode.USAGE_ERROR)
    except KeyboardInterrupt:
        print("wasm-compat: interrupted", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print(
            "wasm-compat: internal error (a bug in wasm-compat; please report it)", file=sys.stderr
        )
        return int(ExitCode.INTERNAL_ERROR)
    finally:
        forkserver.close_all()  # warm workers end with the command (atexit would, later)


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
)


def _recorded_options(options: argparse.Namespace) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value.resolve())
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {key: plain(getattr(options, key)) for key in RESUMABLE}


def _resumed(options: argparse.Namespace) -> tuple[argparse.Namespace, dict[str, Any]]:
    """The options of the run being resumed, and what it recorded before it was cut short."""
    from harness.store.results import read_jsonl

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
        setattr(restored, key, value)
    restored.out = out
    return restored, previous


def cmd_run(options: argparse.Namespace) -> ExitCode:
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
    out: Path = options.out
    started = previous.get("started") or now()
    runtimes = _requested_runtimes(options, out)
    writer = ResultsWriter(out, _recorded_options(options), resume=bool(options.resume))
    recorded_runtimes = {r.get("name") for r in previous["runtimes"]}
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
    planned = session.plan(cases, runtimes, options.cross_family)
    limits = session.Limits(options.timeout, options.memory_mb, options.keep_work)
    runtime_records = [r.to_json() for r in runtimes]
    runs: list[dict[str, Any]] = list(previous["runs"])
    done = {(r["scenario"], r.get("params_id") or "", diff.run_label(r)) for r in runs}
    everything = planned
    planned = [p for p in planned if (p.case.scenario.name, p.case.params_id, p.label) not in done]
    if options.resume:
        print(f"resuming {out}: {len(done)} run(s) recorded, {len(planned)} to go")
    progress = console.Progress(len(planned))

    def record(run: dict[str, Any]) -> None:
        writer.run(run)
        runs.append(run)
        progress.advance(run)

    try:
        session.run_all(planned, suite, out, limits, record, options.jobs)
        progress.finish()
        rerun = session.rerun_changed(
            runs,
            everything,
            runtime_records,
            suite,
            out,
            limits,
            options.reruns,
            options.jobs,
            recorded=lambda key, run: writer.rerun(key, run["reruns"], run["flaky"]),
        )
        if rerun:
            print(
                f"reran {rerun} run(s) {options.reruns} more time(s) to tell changes from flakiness"
            )
    finally:
        progress.finish()
        writer.close()
        document = _finish(runtime_records, runs, started, entries, out, _required(options))
    return _report(document, options.baseline)


def _requested_runtimes(options: argparse.Namespace, out: Path) -> list[Runtime]:
    scratch = out / "work" / ".probe"
    found = [probe(python, scratch) for python in options.python]
    if options.runtime:
        project = load_project(options.tox_ini)
        patterns = [] if "all" in options.runtime else options.runtime
        try:
            specs = matrix.select(project.specs, patterns)
        except ValueError as exc:
            raise RuntimeSelectionError(f"{project.ini}: {exc}") from None
        # probes start each runtime's warm worker: in parallel, each in its own scratch dir
        with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
            found += pool.map(lambda s: runtime_state(project, s, scratch / s.name), specs)
    if not found:
        found.append(probe(sys.executable, scratch))
    return found


def _finish(
    runtimes: list[dict[str, Any]],
    runs: list[dict[str, Any]],
    started: str,
    entries: list[dict[str, Any]],
    out: Path,
    required: list[str],
    recorded: Provenance | None = None,
) -> dict[str, Any]:
    transitions = diff.transitions(runs, runtimes)
    verdict = baseline.judge(transitions, entries)
    where: dict[str, Any] = {"host": recorded.host, "hosts": recorded.hosts} if recorded else {}
    document = compat_document(runtimes, runs, started, transitions, verdict.to_json(), **where)
    document["scenario_texts"] = report.scenario_texts(runs)
    _judge(document, required)
    write_compat(out, document)
    for path in [out / "compat.json", *report.write(document, out)]:
        print(f"wrote {path}")
    return document


def _report(document: dict[str, Any], baseline_path: Path) -> ExitCode:
    print(console.table(document["runs"]))
    changed = [t for t in document["transitions"] if t["kind"] != diff.SAME]
    if changed:
        print()
        print(console.transitions_table(changed))
    return _verdict(document, baseline_path)


def _required(options: argparse.Namespace) -> list[str]:
    """The runtimes that must run: the flag, else tox.ini's setting, else every one requested."""
    if options.require_runtimes:
        return list(options.require_runtimes)
    ini = getattr(options, "tox_ini", None) or find_tox_ini()
    from_ini = required_runtimes(ini) if ini is not None else None
    return list(from_ini) if from_ini is not None else [gate.ALL]


def _judge(document: dict[str, Any], required: list[str]) -> None:
    """Record the gate's decision in the document, for the reports and for `diff` later."""
    document["required_runtimes"] = required
    document["gate"] = gate.gate(document, required).to_json()


def _verdict(document: dict[str, Any], baseline_path: Path) -> ExitCode:
    summary = document["summary"]
    kinds = summary.get("transitions", {})
    new = (document.get("verdict") or {}).get("new_breaks", [])
    print(
        f"\n{summary['runs']} run(s): {summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['unsupported']} unsupported, {summary.get('not_run', 0)} not run"
    )
    if document["transitions"]:
        print(
            "transitions: "
            + ", ".join(f"{kinds.get(k, 0)} {k}" for k in diff.KINDS)
            + f"; {len(new)} new break(s) against {baseline_path}"
        )
    print("\n".join(gate.coverage_lines(document)))
    decision = gate.gate(document, document.get("required_runtimes") or [gate.ALL])
    for entry in (document.get("verdict") or {}).get("stale_entries", []):
        print(
            f"wasm-compat: {baseline_path}: accepted break no longer happens: "
            f"{gate.entry_label(entry)} (remove the entry)",
            file=sys.stderr,
        )
    for reason in decision.reasons:
        print(f"wasm-compat: {reason}", file=sys.stderr)
    if decision.code == ExitCode.OK:
        print("wasm-compat: no new break, every run met its expectation")
    return decision.code


def cmd_runtimes(options: argparse.Namespace) -> ExitCode:
    project = load_project(options.tox_ini)
    with tempfile.TemporaryDirectory(prefix="wasm-compat-probe-") as tmp:
        states = [runtime_state(project, spec, Path(tmp)) for spec in project.specs]
    print(console.runtimes_table([s.to_json() for s in states]))
    provisioned = sum(1 for s in states if s.provisioned)
    print(f"\n{len(states)} runtime(s) pinned in {project.ini}; {provisioned} provisioned")
    return ExitCode.OK


def _joined(paths: list[Path]) -> dict[str, Any]:
    """Several result sets as one: runtimes by name, runs by (scenario, params, runtime), and
    each one's recorded host (`sources`)."""
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
            key = (run["scenario"], run.get("params_id") or "", diff.run_label(run))
            if key not in runs or runs[key]["outcome"] == "not_run":
                runs[key] = run
    return {
        "runtimes": list(runtimes.values()),
        "runs": list(runs.values()),
        "started": started,
        "sources": sources,
    }


def _recorded_hosts(sources: list[tuple[str, dict[str, Any] | None]]) -> Provenance:
    """Where joined result sets came from; a warning when that is not one host."""
    found = provenance(sources)
    for warning in found.warnings:
        print(f"wasm-compat: warning: {warning}", file=sys.stderr)
    return found


def cmd_diff(options: argparse.Namespace) -> ExitCode:
    joined = _joined(options.results)
    transitions = diff.transitions(joined["runs"], joined["runtimes"])
    verdict = baseline.judge(transitions, baseline.load(options.baseline))
    shown = transitions if options.all else [t for t in transitions if t["kind"] != diff.SAME]
    if shown:
        print(console.transitions_table(shown))
    document = compat_document(
        joined["runtimes"], joined["runs"], joined["started"], transitions, verdict.to_json()
    )
    _judge(document, _required(options))
    return _verdict(document, options.baseline)


def cmd_baseline(options: argparse.Namespace) -> ExitCode:
    document = read_results(options.results)
    transitions = document.get("transitions") or diff.transitions(
        document["runs"], document["runtimes"]
    )
    existing = baseline.load(options.baseline)
    entries = baseline.accept(transitions, existing)
    baseline.save(options.baseline, entries)
    todo = sum(1 for e in entries if not e.get("reason"))
    print(
        f"{options.baseline}: {len(entries)} accepted break(s)"
        + (f"; {todo} without a reason yet: fill them in" if todo else "")
    )
    return ExitCode.OK


def cmd_report(options: argparse.Namespace) -> ExitCode:
    joined = _joined(options.results)
    document = _finish(
        joined["runtimes"],
        joined["runs"],
        joined["started"],
        baseline.load(options.baseline),
        options.out,
        _required(options),
        recorded=_recorded_hosts(joined["sources"]),
    )
    if options.findings:
        options.findings.parent.mkdir(parents=True, exist_ok=True)
        accepted = baseline.load(options.baseline)
        options.findings.write_text(findings.render(document, accepted), encoding="utf-8")
        print(f"wrote {options.findings}")
    return _verdict(document, options.baseline)


def cmd_merge(options: argparse.Namespace) -> ExitCode:
    joined = _joined(options.shards)
    missing = missing_upgrade_runs(joined, options)
    if any(r["status"] != "not_run" for r in missing):  # --run-missing ran them here
        joined["sources"].append(("upgrade pairs run by this merge", current_host().to_json()))
    runs = joined["runs"] + missing
    document = _finish(
        joined["runtimes"],
        runs,
        joined["started"],
        baseline.load(options.baseline),
        options.out,
        _required(options),
        recorded=_recorded_hosts(joined["sources"]),
    )
    print(f"merged {len(options.shards)} shard(s) into {options.out / 'compat.json'}")
    return _report(document, options.baseline)


def cmd_new(options: argparse.Namespace) -> ExitCode:
    path = scaffold.new_scenario(options.name, options.dir, options.template)
    print(f"wrote {path}: fill in its description, then `wasm-compat run {path}`")
    return ExitCode.OK


def cmd_schema(options: argparse.Namespace) -> ExitCode:
    sys.stdout.write(scaffold.print_schema())
    return ExitCode.OK


COMMANDS = {
    "validate": cmd_validate,
    "run": cmd_run,
    "runtimes": cmd_runtimes,
    "diff": cmd_diff,
    "baseline": cmd_baseline,
    "merge": cmd_merge,
    "report": cmd_report,
    "bisect": cli_search.cmd_bisect,
    "explore": cli_search.cmd_explore,
    "new": cmd_new,
    "schema": cmd_schema,
}
