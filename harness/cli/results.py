"""The commands that work on saved results: `diff`, `baseline accept`, `report` and `merge`."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.analysis import baseline, diff
from harness.cli import arguments, verdict
from harness.errors import ExitCode
from harness.execution.pool import WorkerPool
from harness.execution.run import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S
from harness.execution.shards import missing_upgrade_runs
from harness.host import current_host
from harness.report import console, findings
from harness.report.corpus import real_world_modules
from harness.scenario.installed import package_of
from harness.store.join import joined
from harness.store.results import compat_document, read_results


def add_diff(sub: arguments.Subparsers) -> None:
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
    arguments.add_baseline(diff_cmd)
    arguments.add_required(diff_cmd)
    arguments.add_tox_ini(diff_cmd)
    diff_cmd.set_defaults(handler=cmd_diff)


def add_baseline(sub: arguments.Subparsers) -> None:
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
    arguments.add_baseline(accept)
    base.set_defaults(handler=cmd_baseline)


def add_report(sub: arguments.Subparsers) -> None:
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
    arguments.add_out(render)
    arguments.add_baseline(render)
    arguments.add_required(render)
    arguments.add_tox_ini(render)
    render.add_argument(
        "--findings",
        nargs="?",
        type=Path,
        const=Path("docs/findings.md"),
        metavar="FILE",
        help="also write every break, fix, drift and flaky transition as Markdown "
        "(default FILE: docs/findings.md)",
    )
    render.set_defaults(handler=cmd_report)


def add_merge(sub: arguments.Subparsers) -> None:
    merge = sub.add_parser("merge", help="join shards' results into one result set and diff")
    merge.add_argument("shards", nargs="+", type=Path, metavar="DIR", help="shard result dirs")
    arguments.add_out(merge)
    merge.add_argument(
        "--run-missing",
        action="store_true",
        help="run upgrade pairs whose runtimes sat in different shards (needs both here)",
    )
    arguments.add_tox_ini(merge)
    arguments.add_baseline(merge)
    arguments.add_required(merge)
    merge.add_argument(
        "--timeout", type=arguments.seconds, default=DEFAULT_TIMEOUT_S, help=argparse.SUPPRESS
    )
    merge.add_argument(
        "--memory-mb", type=arguments.memory_mb, default=DEFAULT_MEMORY_MB, help=argparse.SUPPRESS
    )
    merge.set_defaults(handler=cmd_merge)


def cmd_diff(options: argparse.Namespace) -> ExitCode:
    results = joined(options.results)
    transitions = diff.transitions(results["runs"], results["runtimes"])
    judged = baseline.judge(transitions, baseline.load(options.baseline))
    shown = transitions if options.all else [t for t in transitions if t["kind"] != diff.SAME]
    if shown:
        print(console.transitions_table(shown))
    document = compat_document(
        results["runtimes"], results["runs"], results["started"], transitions, judged.to_json()
    )
    verdict.judge(document, verdict.required(options))
    return verdict.verdict(document, options.baseline)


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
    results = joined(options.results)
    document = verdict.finish(
        results["runtimes"],
        results["runs"],
        results["started"],
        baseline.load(options.baseline),
        options.out,
        verdict.required(options),
        recorded=verdict.recorded_hosts(results["sources"]),
    )
    if options.findings:
        options.findings.parent.mkdir(parents=True, exist_ok=True)
        accepted = baseline.load(options.baseline)
        # which package each real-world module came from: asked of this machine's installs
        packages = {
            m.spelling: package_of(m.spelling, Path(m.folder)) or "?"
            for m in real_world_modules(document)
        }
        text = findings.render(document, accepted, packages)
        options.findings.write_text(text, encoding="utf-8")
        print(f"wrote {options.findings}")
    return verdict.verdict(document, options.baseline)


def cmd_merge(options: argparse.Namespace) -> ExitCode:
    results = joined(options.shards)
    with WorkerPool() as pool:  # --run-missing runs pairs here
        missing = missing_upgrade_runs(results, options, pool)
    if any(r["status"] != "not_run" for r in missing):  # --run-missing ran them here
        results["sources"].append(("upgrade pairs run by this merge", current_host().to_json()))
    runs = results["runs"] + missing
    document = verdict.finish(
        results["runtimes"],
        runs,
        results["started"],
        baseline.load(options.baseline),
        options.out,
        verdict.required(options),
        recorded=verdict.recorded_hosts(results["sources"]),
    )
    print(f"merged {len(options.shards)} shard(s) into {options.out / 'compat.json'}")
    return verdict.report_runs(document, options.baseline)
