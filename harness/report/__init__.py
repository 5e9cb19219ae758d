"""Renderers: compat.json in, the files people and CI read out. They take values and never
call a runtime; `write` is the one place that touches files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.report import html, junit, markdown

MAX_SCENARIO_TEXT = 64 * 1024


def scenario_texts(runs: list[dict[str, Any]]) -> dict[str, str]:
    """The text of each scenario file the runs came from, for the report's drill-down."""
    texts = {}
    for path in sorted({r["path"] for r in runs if r.get("path")}):
        try:
            texts[path] = Path(path).read_text(encoding="utf-8", errors="replace")[
                :MAX_SCENARIO_TEXT
            ]
        except OSError:
            continue
    return texts


def write(document: dict[str, Any], out: Path, text: str | None = None) -> list[Path]:
    """compat.html, junit.xml and summary.md beside compat.json (whose `text` the page embeds
    when the caller has it); returns what it wrote."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        # a lone surrogate from a runtime's bytes cannot be UTF-8: show it, never fail on it
        "compat.html": html.render(document, text).encode("utf-8", "backslashreplace"),
        "junit.xml": junit.render(document),
        "summary.md": markdown.render(document).encode("utf-8", "backslashreplace"),
    }
    written = []
    for name, data in files.items():
        path = out / name
        tmp = path.with_name(name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        written.append(path)
    return written
