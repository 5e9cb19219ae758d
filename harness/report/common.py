"""What every renderer says the same way: outcome words, a transition's sides, the command that
reproduces a transition, and text made safe for formats that cannot hold any character."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any

from harness.analysis.gate import gate
from harness.model.record import UPGRADE_ARROW, pair_label

# What no text output shows raw: C0 controls but tab and newline (ESC starts a terminal
# sequence, CR rewrites the line), DEL, C1 controls (CSI), bidirectional overrides (they reorder
# what a reader sees), lone surrogates and the non-characters XML 1.0 cannot hold.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)


def visible(text: str) -> str:
    """Control characters (and lone surrogates) as visible `\\xNN`: what the console,
    summary.md, findings and junit.xml show of any text they did not write themselves."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text.replace("\r\n", "\n"))


def side(summary: Mapping[str, object], width: int = 90) -> str:
    """`crash (SIGABRT)`, `error (out_of_fuel)`, `error (message…)`: one side of a transition."""
    detail = summary.get("values") or summary.get("trap_code") or summary.get("signal") or ""
    if not detail and summary.get("exit_code") is not None:
        detail = f"exit {summary['exit_code']}"
    detail = detail or summary.get("message") or summary.get("cache") or ""
    cause = _crash_cause(summary)
    if cause:  # the line its stderr gave (a Go panic), where it happened: exit 2 alone says little
        detail = f"{detail} at {summary.get('op')}: {cause}"
    api = summary.get("trap_code_api")
    if api is not None and api != summary.get("trap_code"):  # what an application reading it saw
        detail = f"{detail}; trap_code as the API gave it: {api}"
    if summary.get("adapted"):  # an API difference the adapter bridged: what changed, if ok→ok
        detail = f"{detail}; adapted: {summary['adapted']}" if detail else summary["adapted"]
    text = " ".join(f"{summary.get('outcome')}{f' ({detail})' if detail else ''}".split())
    return text if len(text) <= width else text[: width - 1] + "…"


_ENDED = re.compile(r"^worker (?:exited with -?\d+|killed by [\w ]+): (?P<cause>.+)$", re.S)


def _crash_cause(summary: Mapping[str, object]) -> str | None:
    """What a crash's message says after how the worker ended, if anything."""
    found = _ENDED.match(str(summary.get("message") or ""))
    return found["cause"] if summary.get("outcome") == "crash" and found else None


def scenario_paths(document: dict[str, Any]) -> dict[str, str]:
    return {r["scenario"]: r["path"] for r in document.get("runs", [])}


def case_id(transition: dict[str, Any]) -> str:
    params = transition.get("params")
    return f"{transition['scenario']}[{params}]" if params else str(transition["scenario"])


def reproduce(transition: dict[str, Any], paths: dict[str, str]) -> str:
    """The command that runs both sides of a transition again (an upgrade scenario pairs them)."""
    parts = ["wasm-compat", "run", paths.get(transition["scenario"], "scenarios/")]
    if transition.get("params"):
        parts += ["-k", case_id(transition)]
    for name in dict.fromkeys([transition["from"], transition["to"]]):
        parts += ["--runtime", name]
    return shlex.join(parts)


SEED_TAG = "seed"  # a scenario of the case a project exists for: listed first among its findings


def seed_scenarios(document: dict[str, Any]) -> set[str]:
    """The scenarios tagged `seed` in a run's results."""
    return {
        str(r["scenario"]) for r in document.get("runs") or [] if SEED_TAG in (r.get("tags") or ())
    }


def breaks(document: dict[str, Any]) -> list[tuple[dict[str, Any], bool]]:
    """Every break with whether it is new against the baseline, new ones first."""
    verdict = document.get("verdict") or {}
    new = verdict.get("new_breaks", [])
    found = [(t, t in new) for t in document.get("transitions", []) if t["kind"] == "break"]
    return sorted(found, key=lambda item: not item[1])


def headline(document: dict[str, Any]) -> str:
    verdict = document.get("verdict") or {}
    kinds = document.get("summary", {}).get("transitions", {})
    new = len(verdict.get("new_breaks", []))
    stale = len(verdict.get("stale_entries", []))
    parts = [
        f"{kinds.get('break', 0)} break(s), {new} new",
        f"{kinds.get('fix', 0)} fix(es)",
        f"{kinds.get('drift', 0)} drift",
        f"{kinds.get('flaky', 0)} flaky",
    ]
    if stale:
        parts.append(f"{stale} accepted break(s) no longer happen")
    return "; ".join(parts)


def gate_reasons(document: dict[str, Any]) -> list[str]:
    """Why the gate did not pass, as the run recorded it (older documents: from the verdict)."""
    recorded = document.get("gate")
    if recorded is not None:
        return [str(r) for r in recorded.get("reasons") or []]
    return list(gate(document).reasons)


def kind_label(t: dict[str, Any]) -> str:
    """`break (wrong result)`, `drift (upgrade, consumer axis)`: a transition's kind as every
    output names it."""
    notes = ["wrong result"] if t.get("wrong_result") else []
    if t["upgrade"]:
        axis = t.get("axis") or "control"
        notes.append("upgrade" if axis == "control" else f"upgrade, {axis} axis")
    return str(t["kind"]) + (f" ({', '.join(notes)})" if notes else "")


def compared_runs(t: dict[str, Any]) -> tuple[str, str]:
    """The labels of the two runs a transition compares (older documents lack them)."""
    if "before_run" in t:
        return str(t["before_run"]), str(t["after_run"])
    if t["upgrade"]:
        return pair_label(t["from"], t["from"]), pair_label(t["from"], t["to"])
    return str(t["from"]), str(t["to"])


def boundary(t: dict[str, Any]) -> str:
    """Where a transition happens: `A → B` between releases, `A ⇒ B` against the control,
    `P ⇒ B1 → B2` along one producer's consumers, `A1 → A2 ⇒ C` along one consumer's producers."""
    axis = t.get("axis") or ("control" if t["upgrade"] else "release")
    if axis == "consumer":
        return f"{t['from']} ⇒ {compared_runs(t)[0].split(UPGRADE_ARROW)[-1]} → {t['to']}"
    if axis == "producer":
        return f"{compared_runs(t)[0].split(UPGRADE_ARROW)[0]} → {t['from']} ⇒ {t['to']}"
    return f"{t['from']} {'⇒' if t['upgrade'] else '→'} {t['to']}"
