"""JUnit XML for CI: a testcase per run, and a `breaks` suite with a testcase per break.

A run that missed its expectation is a failure with the step, the message and the stderr tail; a
run that could not happen (unsupported step, runtime not provisioned) is skipped with the reason.
A new break is a failure in the `breaks` suite, an accepted one passes there with its note.
Characters XML cannot hold are made visible rather than dropped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Any

from harness.model.outcome import describe
from harness.model.step import StepResultJson
from harness.report.common import (
    boundary,
    breaks,
    case_id,
    kind_label,
    reproduce,
    scenario_paths,
    side,
    visible,
)


def render(document: dict[str, Any]) -> bytes:
    root = ET.Element("testsuites", name="wasm-compat")
    suites: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in document.get("runs", []):
        label = run.get("runtime") or f"upgrade from {run['from']}"
        suites[label].append(run)
    for label, runs in suites.items():
        suite = _suite(root, label)
        for run in runs:
            _run_case(suite, run, label)
        _count(suite)
    _breaks_suite(root, document)
    _count(root, suites=True)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def _suite(root: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(root, "testsuite", name=visible(name))


def _text(element: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    child = ET.SubElement(element, tag, {k: visible(v) for k, v in attrs.items()})
    child.text = visible(text)
    return child


def _run_case(suite: ET.Element, run: dict[str, Any], label: str) -> None:
    name = run["case"] if "runtime" in run else f"{run['case']} → {run['to']}"
    case = ET.SubElement(
        suite,
        "testcase",
        name=visible(name),
        classname=visible(f"wasm-compat.{label}"),
        file=visible(run.get("path") or ""),
        time=f"{float(run.get('duration_s') or 0):.3f}",
    )
    if run["status"] in ("unsupported", "not_run"):
        ET.SubElement(case, "skipped", message=visible(run.get("reason") or run["status"]))
    elif run["status"] == "fail":
        step = next((s for s in run["steps"] if s.get("met") is False), None)
        where = f"step {step['index'] + 1} ({step['op']})" if step and step["index"] >= 0 else ""
        why = (step or {}).get("why") or run.get("reason") or "did not meet its expectation"
        body = _step_text(step) if step else ""
        _text(case, "failure", body, message=f"{where}: {why}".strip(": "), type=run["outcome"])
    if run.get("reused"):  # after the outcome: the schema puts system-out last
        ran = (run["reused"] or {}).get("ran") or "an earlier run"
        _text(case, "system-out", f"reused: not run again, its inputs are unchanged since {ran}")


def _step_text(step: StepResultJson) -> str:
    lines = [f"outcome: {describe(step)}"]
    for key in ("line", "error_type", "trap_code", "signal", "exit_code", "message"):
        if step.get(key) not in (None, ""):
            lines.append(f"{key}: {step[key]}")
    if step.get("stderr_tail"):
        lines += ["stderr (tail):", step["stderr_tail"]]
    return "\n".join(lines)


def _breaks_suite(root: ET.Element, document: dict[str, Any]) -> None:
    suite = _suite(root, "breaks")
    paths = scenario_paths(document)
    for transition, new in breaks(document):
        case = ET.SubElement(
            suite,
            "testcase",
            name=visible(f"{case_id(transition)}: {boundary(transition)}"),
            classname="wasm-compat.breaks",
            time="0",
        )
        summary = (
            f"{kind_label(transition)}: {side(transition['before'])} → {side(transition['after'])}"
        )
        detail = f"{summary}\nreproduce: {reproduce(transition, paths)}"
        if new:
            _text(case, "failure", detail, message=f"new break: {summary}", type="break")
        else:
            _text(case, "system-out", f"accepted in the baseline: {detail}")
    _count(suite)


def _count(element: ET.Element, suites: bool = False) -> None:
    cases = element.iter("testcase")
    listed = list(cases)
    element.set("tests", str(len(listed)))
    element.set("failures", str(sum(1 for c in listed if c.find("failure") is not None)))
    element.set("errors", "0")
    element.set("skipped", str(sum(1 for c in listed if c.find("skipped") is not None)))
    if not suites:
        total = sum(float(c.get("time") or 0) for c in listed)
        element.set("time", f"{total:.3f}")
