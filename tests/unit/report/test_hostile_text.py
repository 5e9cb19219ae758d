"""Text from data (parameter values, scenario names, runtimes' reasons and messages) lands in
summary.md, findings and the console inert: no markup, no terminal control."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.analysis import diff
from harness.report import console, findings, markdown
from harness.report.common import visible

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "golden" / "report" / "compat.json"

# each carries MARK, so the lines it reaches can be found; `.invalid` is a reserved name
PAYLOADS = [
    "MARK```\n# heading\n```",
    "MARK ![img](http://x.invalid/p.png)",
    "MARK [link](http://x.invalid)",
    "MARK <img src=x onerror=alert(1)> </td>",
    "MARK <http://x.invalid> http://x.invalid www.x.invalid a@x.invalid",
    "MARK *b* _e_ ~~s~~ | `code` \\[esc]",
    "MARK \x1b[31mred\x1b[0m\r\x9b2J\x00\u202e",
]
# markup that may not start in text from data, unless escaped by a backslash
MARKUP = re.compile(r"(?<!\\)(?:[\[\]`|@~#]|<[A-Za-z/!?]|://|www\.)|(?<![\\\w])_|(?<!\\)\*")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]")


def hostile(payload: str) -> dict[str, Any]:
    doc = json.loads(GOLDEN.read_text())
    doc["transitions"] = diff.transitions(doc["runs"], doc["runtimes"])
    brk = next(t for t in doc["transitions"] if t["kind"] == "break")
    brk["scenario"] = f"scenario {payload}"  # a scenario's name
    brk["params"] = f"feature={payload}"  # a parameter's value
    brk["after"] = {"outcome": "error", "message": f"runtime says {payload}"}
    doc["verdict"]["new_breaks"] = [brk]
    ran = next(r for r in doc["runtimes"] if r.get("status") != "ok")
    ran["reason"] = f"not usable: {payload}"  # a runtime's reason
    doc["runs"][0]["known"] = [f"known {payload}"]
    return doc


def fenced(text: str) -> tuple[list[str], list[str]]:
    """Lines outside and inside fenced code blocks, as CommonMark closes them."""
    outside, inside, fence = [], [], ""
    for line in text.splitlines():
        ticks = re.match(r"`{3,}", line)
        if fence:
            if ticks and line.strip() == line and set(line) == {"`"} and len(line) >= len(fence):
                fence = ""
            else:
                inside.append(line)
        elif ticks:
            fence = ticks.group()
        else:
            outside.append(line)
    assert not fence, "a fence left open"
    return outside, inside


def inert(line: str) -> str:
    """The part of a line from data, stripped of our own markup and inline code spans."""
    line = re.sub(r"(`+) .*? \1|`[^`]*`", "", line)  # code spans are inert by definition
    for ours in ("**wrong result**: ", "**new**", "🆕 new", " | ", "| ", " |"):
        line = line.replace(ours, " ")
    return line


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("render", [markdown.render, findings.render], ids=["summary", "findings"])
def test_no_markup_comes_from_data(payload: str, render: Any) -> None:
    text = render(hostile(payload))
    outside, inside = fenced(text)
    reached = [line for line in outside if "MARK" in line]
    assert reached, "the payload is shown"
    for line in reached:
        assert not re.match(r" {0,3}#", line) or "MARK" not in line.split(" ", 1)[0]
        found = MARKUP.findall(inert(line.split(": ", 1)[-1] if line.startswith("#") else line))
        assert found == [], (line, found)
    # the reproduce block holds every command, each on its line, however many backticks
    assert all(line.startswith("wasm-compat run") for line in inside)
    assert not CONTROL.search(text)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_console_shows_control_characters_escaped(payload: str) -> None:
    doc = hostile(payload)
    run = copy.deepcopy(next(r for r in doc["runs"] if r["status"] == "fail"))
    run["case"] = f"case {payload}"
    step = next(s for s in run["steps"] if s.get("met") is False)
    step["why"] = f"runtime says {payload}"
    for text in (
        console.table([run]),
        console.transitions_table(doc["transitions"]),
        console.runtimes_table(doc["runtimes"]),
    ):
        assert not CONTROL.search(text)
    assert len(console.table([run]).splitlines()) == 2  # a header and one row


def test_visible_escapes_every_control_character() -> None:
    assert visible("a\x1b[31m\x00\r\n\x9b\x7f\u202e\udcff\tb") == (
        "a\\x1b[31m\\x00\n\\x9b\\x7f\\x202e\\xdcff\tb"
    )
    assert visible("a\rb") == "a\\x0db"


def test_a_fence_outgrows_the_backticks_inside_it() -> None:
    assert markdown.fence(["a ```` b"], "sh") == ["`````sh", "a ```` b", "`````"]
    assert markdown.code("a `` b") == "``` a `` b ```"
    assert markdown.cell("integer_division_by_zero _x_") == "integer_division_by_zero \\_x\\_"
