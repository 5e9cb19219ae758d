"""junit.xml and summary.md from golden results: valid, complete, inert."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from harness.analysis import gate
from harness.report import junit, markdown
from harness.report.common import visible

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "golden" / "report" / "compat.json"
XSD = ROOT / "harness" / "report" / "junit.xsd"


@pytest.fixture
def document() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text())


def hostile(document: dict[str, Any]) -> dict[str, Any]:
    """A runtime message carrying markup, control characters and a lone surrogate."""
    doc = copy.deepcopy(document)
    run = next(r for r in doc["runs"] if r["status"] == "fail")
    step = next(s for s in run["steps"] if s.get("met") is False)
    step["why"] = "got <script>alert(1)</script> | pipe \x1b[31m\x00 \udcff"
    step["stderr_tail"] = "]]> <b>bold</b> \x07"
    brk = next(t for t in doc["transitions"] if t["kind"] == "break")
    brk["after"]["message"] = "<img src=x onerror=alert(1)> | a\nb"
    brk["after"].pop("signal", None)
    return doc


def test_junit_validates_against_the_schema(document: dict[str, Any]) -> None:
    xml = junit.render(hostile(document))
    xmlschema.XMLSchema(XSD).validate(xml.decode("utf-8"))


def test_junit_has_a_testcase_per_run_and_per_break(document: dict[str, Any]) -> None:
    root = ET.fromstring(junit.render(document))
    runs = [c for s in root if s.get("name") != "breaks" for c in s]
    assert len(runs) == len(document["runs"])
    breaks = next(s for s in root if s.get("name") == "breaks")
    kinds = [t for t in document["transitions"] if t["kind"] == "break"]
    assert len(breaks) == len(kinds)
    assert int(root.get("failures") or 0) == document["summary"]["failed"] + len(kinds)
    assert int(root.get("skipped") or 0) == (
        document["summary"]["unsupported"] + document["summary"]["not_run"]
    )
    failure = breaks[0].find("failure")
    assert failure is not None and "reproduce: wasm-compat run" in (failure.text or "")


def test_junit_makes_illegal_characters_visible(document: dict[str, Any]) -> None:
    text = junit.render(hostile(document)).decode("utf-8")
    assert "\\x1b[31m\\x00 \\udcff" not in text  # the surrogate is made visible too
    assert "\\x1b" in text and "\\x00" in text and "\\xdcff" in text
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert visible("a\x0bb\tc") == "a\\x0bb\tc"


def test_summary_is_a_verdict_a_table_and_commands(document: dict[str, Any]) -> None:
    text = markdown.render(document)
    assert text.startswith("## wasm-compat: ❌ 9 new break(s)")
    rows = [line for line in text.splitlines() if line.startswith("| 🆕 new")]
    assert len(rows) == 9
    assert "wasm-compat run scenarios/deserialize_truncated.yaml" in text
    # what did not run comes first, right under the verdict
    head = text.split("\n| ")[0]
    assert "**5 of 6 runtime(s) ran; 1 did not:**" in head
    assert "- wasmer-1.1.0-universal-llvm: not usable: RuntimeUnavailable: importing" in head


def test_summary_cells_are_inert(document: dict[str, Any]) -> None:
    text = markdown.render(hostile(document))
    table = [line for line in text.splitlines() if line.startswith("| 🆕")]
    assert all(line.count(" | ") == 3 for line in table)  # no pipe from a message splits a row
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt; \\| a b" in text


def test_summary_fits_a_pull_request_comment(document: dict[str, Any]) -> None:
    doc = copy.deepcopy(document)
    brk = next(t for t in doc["transitions"] if t["kind"] == "break")
    doc["transitions"] += [brk | {"to": f"wasmtime-{i}.0.0"} for i in range(5000)]
    doc["verdict"]["new_breaks"] = [t for t in doc["transitions"] if t["kind"] == "break"]
    text = markdown.render(doc)
    assert len(text) < 65_536
    assert "more in compat.html" in text


def test_a_clean_run_says_so(document: dict[str, Any]) -> None:
    doc = copy.deepcopy(document)
    doc["verdict"]["new_breaks"] = []
    assert markdown.render(doc).startswith("## wasm-compat: ❌ 12 run(s) missed their expectation")
    for run in doc["runs"]:
        run["status"] = "pass" if run["status"] == "fail" else run["status"]
    doc["gate"] = gate.gate(doc, ["none"]).to_json()
    assert markdown.render(doc).startswith("## wasm-compat: ✅ no new break")


def test_report_re_renders_saved_results(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "report",
            str(GOLDEN),
            "--out",
            str(tmp_path),
            "--baseline",
            str(tmp_path / "none.yaml"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # the golden run has new breaks
    for name in ("compat.json", "compat.html", "junit.xml", "summary.md"):
        assert (tmp_path / name).stat().st_size > 0
    again = json.loads((tmp_path / "compat.json").read_text())
    # the golden predates the upgrade diff's side axes and the cause-keeping normalizer
    identity = ("scenario", "params", "upgrade", "from", "to", "kind")
    recomputed = [
        {k: t[k] for k in identity}
        for t in again["transitions"]
        if t["axis"] in ("release", "control")
    ]
    saved = [{k: t[k] for k in identity} for t in json.loads(GOLDEN.read_text())["transitions"]]
    assert recomputed == saved
    assert "scenarios/deserialize_truncated.yaml" in again["scenario_texts"]


def test_findings_list_every_change_with_its_evidence(document: dict[str, Any]) -> None:
    from harness.analysis import diff
    from harness.report import findings

    document["transitions"] = diff.transitions(document["runs"], document["runtimes"])
    text = findings.render(document)
    assert "## Breaks between releases (1)" in text
    row = next(line for line in text.splitlines() if line.startswith("| deserialize_truncated"))
    assert "wasmer-1.0.0-jit-cranelift → wasmer-1.1.0-universal-cranelift" in row
    assert "crash (SIGSEGV)" in row and "outcome" in row  # what changed, and the evidence
    assert "## Fixes between releases (3)" in text
    assert "fuel_exhaustion" in text and "crash (SIGABRT)" in text
    assert "## Upgrade transitions" in text
    assert "Not tested: `wasmer-1.1.0-universal-llvm`" in text


def test_findings_give_the_baseline_reason_and_the_known_behaviour(
    document: dict[str, Any],
) -> None:
    from harness.analysis import baseline, diff
    from harness.report import findings

    document["transitions"] = diff.transitions(document["runs"], document["runtimes"])
    (truncated,) = [
        t
        for t in document["transitions"]
        if t["scenario"] == "deserialize_truncated" and t["kind"] == "break"
    ]
    entry = baseline.entry_for(truncated, "wasmer 1.1 trusts the artifact's lengths")
    document["runs"][0]["known"] = ["a stated runtime bug"]
    text = findings.render(document, [entry])
    row = next(line for line in text.splitlines() if line.startswith("| deserialize_truncated"))
    assert row.endswith("| accepted: wasmer 1.1 trusts the artifact's lengths |")
    assert "## Known behaviour stated in the scenarios (1)" in text
    assert f"| a stated runtime bug | {document['runs'][0]['case']} on " in text
    assert "**new**" not in findings.render(document, [entry]).split("## Fixes")[0]
    assert "**new**" in findings.render(document)


def test_the_summary_and_the_page_say_which_host_the_results_come_from(
    document: dict[str, Any],
) -> None:
    from harness.host import current_host
    from harness.report import html

    doc = copy.deepcopy(document)
    doc["host"] = current_host().to_json()
    model = doc["host"]["cpu_model"]
    assert f"- host: {model} (" in markdown.render(doc)
    assert f"<dt>Host</dt>\n      <dd>{html_escape(model)} (" in html.render(doc)
    doc["hosts"] = [doc["host"], {**doc["host"], "cpu_model": "AMD EPYC 9R14"}]
    assert "result sets from 2 different hosts" in markdown.render(doc)
    assert "AMD EPYC 9R14" in html.render(doc)


def html_escape(text: str) -> str:
    import html as stdlib_html

    return stdlib_html.escape(text, quote=True)


def test_a_transition_names_both_runs_it_compares() -> None:
    from harness.report.common import boundary

    base = {"from": "wt-39", "to": "wt-45", "upgrade": True, "after_run": "wt-39→wt-45"}
    assert boundary({**base, "upgrade": False, "axis": "release"}) == "wt-39 → wt-45"
    assert boundary({**base, "axis": "control", "before_run": "wt-39→wt-39"}) == "wt-39 ⇒ wt-45"
    consumer = {**base, "axis": "consumer", "before_run": "wt-39→wt-41"}
    assert boundary(consumer) == "wt-39 ⇒ wt-41 → wt-45"
    producer = {**base, "axis": "producer", "before_run": "wt-38→wt-45"}
    assert boundary(producer) == "wt-38 → wt-39 ⇒ wt-45"
