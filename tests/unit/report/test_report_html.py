"""compat.html as a string: self-contained, escaped, and saying what the golden run found."""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from harness.analysis import gate
from harness.report import html

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "report" / "compat.json"
PLANTED = "</script><script>alert(1)</script>"


def golden() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(GOLDEN.read_text())
    return document


@pytest.fixture(scope="module")
def page() -> str:
    return html.render(golden())


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of the data element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.data: list[str] = []
        self._in_data = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_data = tag == "script" and dict(attrs).get("id") == "data"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_data = False

    def handle_data(self, data: str) -> None:
        if self._in_data:
            self.data.append(data)


def parse(text: str) -> Tags:
    parser = Tags()
    parser.feed(text)
    parser.close()
    return parser


def embedded(text: str) -> Any:
    return json.loads("".join(parse(text).data))


def find_run(document: dict[str, Any], scenario: str, runtime: str) -> dict[str, Any]:
    return next(
        r for r in document["runs"] if r["scenario"] == scenario and r.get("runtime") == runtime
    )


def test_self_contained(page: str) -> None:
    tags = parse(page).tags
    for tag, attrs in tags:
        for name in ("src", "href", "action", "srcset", "poster"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//")), (tag, name, value)
    assert not [t for t, _ in tags if t in ("link", "iframe", "object", "embed")]
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", page)
    # the page logic is inline; the only scripts are the data and the code
    scripts = [attrs for tag, attrs in tags if tag == "script"]
    assert [a.get("type") for a in scripts] == ["application/json", None]
    assert all("src" not in a for a in scripts)


def test_embedded_data_is_the_document(page: str) -> None:
    assert embedded(page) == golden()


def test_planted_script_end_stays_inside_the_data() -> None:
    document = golden()
    run = find_run(document, "deserialize_truncated", "wasmer-1.1.0-universal-cranelift")
    run["steps"][-1]["message"] = PLANTED
    run["steps"][-1]["stderr_tail"] = "a < b && c > d " + PLANTED
    document["runtimes"][-1]["reason"] = PLANTED
    text = html.render(document)
    assert "</script><script>alert" not in text
    assert "<script>alert" not in text
    data_element = re.search(
        r'<script type="application/json" id="data">(.*?)</script>', text, re.S
    )
    assert data_element is not None
    assert "<" not in data_element.group(1) and ">" not in data_element.group(1)
    assert "&" not in data_element.group(1)
    assert json.loads(data_element.group(1)) == document  # nothing lost or cut short
    # the one place it is rendered as HTML (the runtimes not tested) shows it as text
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_scenario_name_is_escaped() -> None:
    document = golden()
    evil = "<b>bold</b>"
    for item in document["runs"] + document["transitions"] + document["verdict"]["new_breaks"]:
        if item["scenario"] == "deserialize_truncated":
            item["scenario"] = evil
    text = html.render(document)
    assert evil not in text
    assert "&lt;b&gt;bold&lt;/b&gt;" in text
    assert embedded(text) == document


def test_verdict_in_words_and_numbers(page: str) -> None:
    heading = re.search(r'<h1 id="verdict">(.*?)</h1>', page, re.S)
    assert heading is not None
    # every reason the gate fails, in the order of the gate (a golden without `gate`: all required)
    assert heading.group(1).strip().split(" · ") == [
        "9 new break(s)",
        "12 run(s) missed their expectation",
        "1 required runtime(s) did not run: wasmer-1.1.0-universal-llvm",
    ]
    assert "gate fails: exit 1" in page
    coverage = re.search(r'<div class="coverage partial" role="status">(.*?)</div>', page, re.S)
    assert coverage is not None and "<b>5 of 6 runtimes ran</b>; these did not:" in coverage[1]
    assert '<code>wasmer-1.1.0-universal-llvm</code> <span class="why">not usable: ' in coverage[1]
    tiles = dict(
        (kind, int(n))
        for n, kind in re.findall(r'<span class="n">(\d+)</span><span class="k">(\w+)</span>', page)
    )
    assert tiles == {"breaks": 9, "fixes": 3, "drift": 19, "flaky": 0, "runs": 144}
    assert "9 new · 0 accepted" in page
    assert "79 passed · 12 failed · 27 unsupported · 26 not run" in page
    assert "wasm-compat 0.1.0" in page
    assert "2026-11-24 01:35:04 UTC" in page and "(51 s)" in page


def test_runtimes_tested_and_not(page: str) -> None:
    assert "5 runtimes:" in page
    for short in ("0.20.0", "3.0.0", "50.0.1", "1.0.0-jit-cranelift", "1.1.0-universal-cranelift"):
        assert f">{short}</span>" in page
    # what did not run comes before the tiles, grouped by reason
    not_tested = page[page.index('<div class="coverage') : page.index('<ul class="tiles"')]
    assert '<code>wasmer-1.1.0-universal-llvm</code> <span class="why">not usable: ' in not_tested
    assert "importing wasmer_compiler_llvm ends the interpreter" in not_tested


def passing(document: dict[str, Any]) -> dict[str, Any]:
    """The golden with every run meeting its expectation and no runtime required, judged."""
    for run in document["runs"]:
        if run["status"] == "fail":
            run["status"] = "pass"
    document["summary"]["failed"] = 0
    document["gate"] = gate.gate(document, ["none"]).to_json()
    return document


def changes_in(text: str) -> list[tuple[str, str]]:
    """(classes, inner HTML) of every listed change."""
    return re.findall(r'<li class="chg ([^"]*)">(.*?)</li>', text, re.S)  # type: ignore[no-any-return]


def test_every_break_is_listed_with_its_command(page: str) -> None:
    document = golden()
    breaks_section = page[page.index('id="breaks"') : page.index('id="matrix"')]
    listed = [(k.split(), c) for k, c in changes_in(breaks_section)]
    assert all({"k-break", "b-new"} <= set(k) for k, _ in listed)
    cards = [c for _, c in listed]
    assert len(cards) == 9
    for t in (t for t in document["transitions"] if t["kind"] == "break"):
        arrow = "⇒" if t["upgrade"] else "→"
        boundary = f'{t["from"]}</span> <span class="arrow"'
        matching = [c for c in cards if boundary in c and f">{t['to']}</span>" in c]
        assert matching, (t["scenario"], t["from"], t["to"])
        assert any(f">{arrow}</span>" in c for c in matching)
    release = next(c for k, c in listed if "upgrade" not in k)
    command = (
        "wasm-compat run scenarios/deserialize_truncated.yaml "
        "--runtime wasmer-1.0.0-jit-cranelift --runtime wasmer-1.1.0-universal-cranelift"
    )
    assert f'data-copy="{command}"' in release
    assert "<code>SIGSEGV</code>" in release and "worker killed by SIGSEGV" in release
    assert "<b>crash</b>" in release and "<b>error</b>" in release
    # the release break comes first, then the upgrade breaks in groups per family
    assert breaks_section.index("Between releases") < breaks_section.index("Across upgrades")
    assert sum(1 for k, _ in listed if "upgrade" in k) == 8


def test_command_of_a_parameterised_case(page: str) -> None:
    fix = next(c for k, c in changes_in(page) if "k-fix" in k and "feature=threads" in c)
    assert (
        'data-copy="wasm-compat run scenarios/features.yaml -k &#39;features[feature=threads]&#39; '
        '--runtime wasmtime-0.20.0 --runtime wasmtime-3.0.0"'
    ) in fix


def test_sides_open_the_runs_they_describe(page: str) -> None:
    document = golden()
    card = next(c for k, c in changes_in(page) if "k-break" in k and "upgrade" not in k.split())
    runs = [document["runs"][int(i)] for i in re.findall(r'data-run="(\d+)"', card)]
    labels = [(r["scenario"], r.get("runtime")) for r in runs]
    assert labels == [
        ("deserialize_truncated", "wasmer-1.1.0-universal-cranelift"),  # the case name: after
        ("deserialize_truncated", "wasmer-1.0.0-jit-cranelift"),  # before
        ("deserialize_truncated", "wasmer-1.1.0-universal-cranelift"),  # after
    ]
    upgrade = next(
        c
        for k, c in changes_in(page)
        if "upgrade" in k.split()
        and ">wasmtime-50.0.1</span> <span" in c
        and ">wasmtime-3.0.0<" in c
    )
    runs = [document["runs"][int(i)] for i in re.findall(r'data-run="(\d+)"', upgrade)]
    assert [(r["from"], r["to"]) for r in runs] == [
        ("wasmtime-50.0.1", "wasmtime-50.0.1"),  # the control
        ("wasmtime-50.0.1", "wasmtime-3.0.0"),
    ]


def test_new_and_accepted_breaks() -> None:
    document = golden()
    verdict = document["verdict"]
    accepted = next(t for t in verdict["new_breaks"] if not t["upgrade"])
    verdict["new_breaks"].remove(accepted)
    verdict["accepted_breaks"].append(accepted)
    text = html.render(document)
    assert re.search(r'<h1 id="verdict">\s*8 new break\(s\) · ', text)
    assert "8 new · 1 accepted" in text
    cards = changes_in(text)
    assert len([k for k, _ in cards if "k-break b-accepted" in k]) == 1
    assert len([k for k, _ in cards if "k-break b-new" in k]) == 8


def test_no_new_break_passes() -> None:
    document = golden()
    verdict = document["verdict"]
    verdict["accepted_breaks"], verdict["new_breaks"] = verdict["new_breaks"], []
    text = html.render(passing(document))
    assert "No new breaks" in text and "gate passes: exit 0" in text
    assert "9 accepted" in text


def test_stale_entries_fail_the_gate() -> None:
    document = golden()
    entry = {"scenario": "traps", "params": "", "from": "wasmtime-0.20.0", "to": "wasmtime-3.0.0"}
    document["verdict"] = {
        "new_breaks": [],
        "accepted_breaks": [],
        "stale_entries": [entry],
        "unchecked_entries": [],
    }
    text = html.render(passing(document))
    assert re.search(r'<h1 id="verdict">\s*1 accepted break\(s\) no longer happen\s*</h1>', text)
    assert "Stale baseline entries" in text


def test_nothing_to_compare() -> None:
    document = golden()
    document["transitions"] = []
    document["summary"]["transitions"] = {}
    del document["verdict"]
    text = html.render(document)
    assert "12 run(s) missed their expectation" in text  # no transitions, and still the gate
    text = html.render(passing(document))
    assert "Nothing to compare" in text
    assert "Nothing broke." in text


def test_scenario_texts_are_carried_to_the_page() -> None:
    document = golden()
    document["scenario_texts"] = {
        "scenarios/traps.yaml": "steps:\n  - compile: traps # </script>\n"
    }
    text = html.render(document)
    assert embedded(text)["scenario_texts"] == document["scenario_texts"]


def test_render_does_not_touch_the_document() -> None:
    document = golden()
    before = copy.deepcopy(document)
    html.render(document)
    assert document == before


def test_runs_with_known_behaviour_are_counted() -> None:
    document = golden()
    document["summary"]["known"] = 4
    assert "79 passed (4 with known behaviour) · 12 failed" in html.render(document)
