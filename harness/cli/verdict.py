"""What every command that diffs ends with: the document written with its reports, the gate's
decision recorded in it, and the verdict printed with the exit code it implies."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness import report
from harness.analysis import baseline, diff, gate
from harness.errors import ExitCode
from harness.host import Provenance, provenance
from harness.provision.toxenvs import find_tox_ini, required_runtimes
from harness.report import console
from harness.store.results import compat_document, compat_text, write_compat


def finish(
    runtimes: list[dict[str, Any]],
    runs: list[dict[str, Any]],
    started: str,
    entries: list[dict[str, Any]],
    out: Path,
    required: list[str],
    recorded: Provenance | None = None,
    transitions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Diff the runs (unless their `transitions` are given), judge, write every report."""
    if transitions is None:
        transitions = diff.transitions(runs, runtimes)
    verdict = baseline.judge(transitions, entries)
    where: dict[str, Any] = {"host": recorded.host, "hosts": recorded.hosts} if recorded else {}
    document = compat_document(runtimes, runs, started, transitions, verdict.to_json(), **where)
    document["scenario_texts"] = report.scenario_texts(runs)
    judge(document, required)
    text = compat_text(document)  # one serialization, for compat.json and the page's data
    write_compat(out, document, text)
    for path in [out / "compat.json", *report.write(document, out, text)]:
        print(f"wrote {path}")
    return document


def report_runs(document: dict[str, Any], baseline_path: Path) -> ExitCode:
    print(console.table(document["runs"]))
    changed = [t for t in document["transitions"] if t["kind"] != diff.SAME]
    if changed:
        print()
        print(console.transitions_table(changed))
    return verdict(document, baseline_path)


def required(options: argparse.Namespace) -> list[str]:
    """The runtimes that must run: the flag, else tox.ini's setting, else every one requested."""
    if options.require_runtimes:
        return list(options.require_runtimes)
    ini = getattr(options, "tox_ini", None) or find_tox_ini()
    from_ini = required_runtimes(ini) if ini is not None else None
    return list(from_ini) if from_ini is not None else [gate.ALL]


def judge(document: dict[str, Any], required: list[str]) -> None:
    """Record the gate's decision in the document, for the reports and for `diff` later."""
    document["required_runtimes"] = required
    document["gate"] = gate.gate(document, required).to_json()


def recorded_hosts(sources: list[tuple[str, dict[str, Any] | None]]) -> Provenance:
    """Where joined result sets came from; a warning when that is not one host."""
    found = provenance(sources)
    for warning in found.warnings:
        print(f"wasm-compat: warning: {warning}", file=sys.stderr)
    return found


def verdict(document: dict[str, Any], baseline_path: Path) -> ExitCode:
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
