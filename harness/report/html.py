"""compat.html: one self-contained page (no network, works from file://) for deciding whether
to upgrade a runtime.

The header and the list of changes are rendered here, through a Jinja2 template with autoescape,
so they read without JavaScript. The matrix, the upgrade heatmaps and the drill-down are drawn
by the page's own script from the document embedded as JSON: a full run is thousands of runs,
and building those rows in the browser keeps the file and the render small.
"""

from __future__ import annotations

import datetime as _dt
import json
import shlex
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from harness.analysis.gate import coverage, entry_label
from harness.host import describe as describe_host
from harness.model.record import UPGRADE_ARROW, run_key
from harness.report.common import (
    case_id,
    compared_runs,
    gate_reasons,
    kind_label,
    reproduce,
    scenario_paths,
    seed_scenarios,
)
from harness.report.corpus import real_world_modules

TEMPLATES = Path(__file__).parent / "templates"

# Inside <script> the HTML parser ends the element at the first `</script`, whatever JSON
# thinks; with <, > and & as JSON escapes no runtime message can, and JSON.parse reads them back.
# (str.replace per character: str.translate with a table is far slower on a large document)
_SCRIPT_SAFE = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"))

# Text presentation (U+FE0E) so ☠ and ⌛ stay monochrome glyphs instead of emoji, and every
# symbol takes the colour of its cell.
SYMBOLS = {
    "ok": "✓",
    "error": "✗",
    "crash": "☠\ufe0e",
    "timeout": "⌛\ufe0e",
    "unsupported": "\u2013",  # an en dash
    "not_run": "·",
}

# The order changes are listed in: what gates first, then what is good news, then noise.
_CHANGE_ORDER = {"break": 0, "fix": 1, "flaky": 2, "drift": 3}


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(document: dict[str, Any], text: str | None = None) -> str:
    """The page for a compat.json document (and its optional `scenario_texts`); `text` is the
    document as JSON, when the caller has serialized it already."""
    template = _environment().get_template("compat.html.j2")
    corpus = real_world_modules(document)
    return template.render(
        corpus=corpus,
        corpus_families=list(dict.fromkeys(t.family for m in corpus for t in m.times)),
        doc=document,
        problems=gate_reasons(document),
        coverage=coverage(document),
        entry_label=entry_label,
        host=describe_host(document.get("host")),
        hosts=[describe_host(h) for h in document.get("hosts") or []],
        kind_label=kind_label,
        data=embedded_json(document, text),
        symbols=SYMBOLS,
        changes=changes(document),
        families=families(document.get("runtimes") or []),
        took=_elapsed(document.get("started"), document.get("finished")),
    )


def embedded_json(document: dict[str, Any], text: str | None = None) -> Markup:
    """The document as JSON (`text`, or serialized here) that is safe as the text of a
    <script type="application/json">."""
    if text is None:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str)
    for char, escape in _SCRIPT_SAFE:
        text = text.replace(char, escape)
    return Markup(text)


def changes(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every non-same transition with what the page needs to show it: whether the baseline
    knew it, the runs on either side (by index, for the drill-down) and the command that
    reproduces it. Breaks first, new before accepted, a seed scenario's before the others'."""
    runs = document.get("runs") or []
    where = {run_key(r): i for i, r in enumerate(runs)}
    verdict = document.get("verdict")
    new = (verdict or {}).get("new_breaks", [])
    accepted = (verdict or {}).get("accepted_breaks", [])
    paths = scenario_paths(document)
    found = []
    for t in document.get("transitions") or []:
        if t["kind"] not in _CHANGE_ORDER:
            continue
        key = (t["scenario"], t.get("params") or "")
        before, after = compared_runs(t)
        baseline = None
        command = reproduce(t, paths)
        if t["kind"] == "break" and verdict is not None:
            baseline = "new" if t in new else "accepted" if t in accepted else None
        found.append(
            {
                "t": t,
                "case": case_id(t),
                "group": f"{case_id(t)} · {t['family']}",
                "baseline": baseline,
                "before_run": where.get((*key, before)),
                "after_run": where.get((*key, after)),
                "before_label": before.replace(UPGRADE_ARROW, " ⇒ "),
                "after_label": after.replace(UPGRADE_ARROW, " ⇒ "),
                "command": command,
                # one span per argument, so a narrow screen wraps between arguments only
                "argv": [shlex.quote(arg) for arg in shlex.split(command)],
            }
        )
    seeds = seed_scenarios(document)
    return sorted(
        found,
        key=lambda c: (
            _CHANGE_ORDER[c["t"]["kind"]],
            c["baseline"] != "new",
            c["t"]["upgrade"],
            c["t"]["scenario"] not in seeds,
        ),
    )


def families(runtimes: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Runtimes by family, both in tox.ini order (which is version order within a line)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for runtime in runtimes:
        grouped.setdefault(runtime.get("family") or "other", []).append(runtime)
    return list(grouped.items())


def _elapsed(started: Any, finished: Any) -> str:
    try:
        seconds = (
            _dt.datetime.fromisoformat(str(finished)) - _dt.datetime.fromisoformat(str(started))
        ).total_seconds()
    except ValueError:
        return ""
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
