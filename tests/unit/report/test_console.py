"""The console's tables, from the records a command prints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.report import console


def runtime(**fields: Any) -> dict[str, Any]:
    """A runtime record as `Runtime.to_json` gives it (only what the table reads)."""
    return {"family": "wazero", "version": "1.7.0", "python": None, "reason": None, **fields}


def row(record: dict[str, Any]) -> str:
    return " ".join(console.runtimes_table([record]).splitlines()[1].split())


def test_a_usable_go_worker_shows_the_wazero_version_it_reported() -> None:
    worker = "/p/.tox/wazero-1.7.0-compiler/bin/wazero-worker"
    usable = runtime(name="wazero-1.7.0-compiler", status="ok", interpreter=worker)
    shown = row(usable)
    assert shown.startswith("wazero-1.7.0-compiler ok ") and worker in shown
    assert shown.endswith(f"{worker} wazero 1.7.0")


def test_an_unusable_go_worker_shows_no_version_only_why() -> None:
    failed = runtime(name="wazero-0.0.9-compiler", status="unavailable", reason="does not build")
    shown = row(failed)
    assert shown.startswith("wazero-0.0.9-compiler unavailable ")
    assert shown.endswith(" - does not build")


def test_a_python_worker_shows_its_runtime_and_interpreter_versions() -> None:
    record = runtime(
        name="wasmtime-50.0.1",
        family="wasmtime",
        version="50.0.1",
        python="3.11.7",
        interpreter="/p/.tox/wasmtime-50.0.1/bin/python",
        status="ok",
    )
    python = "/p/.tox/wasmtime-50.0.1/bin/python"
    assert row(record) == f"wasmtime-50.0.1 ok 3.11.7 {python} wasmtime 50.0.1"


def test_the_reuse_line_counts_what_runs_apart_from_what_cannot() -> None:
    line = console.reuse_line(4944, 1320, 1320, Path("/cache"), fresh=False)
    assert line.startswith("reusing 4944 run(s) whose inputs are unchanged, from /cache")
    assert "running 0 (1320 more cannot run here)" in line
    fresh = console.reuse_line(0, 6264, 1320, Path("/cache"), fresh=True)
    assert "running 4944 run(s) (1320 more cannot run here), keeping them in /cache" in fresh
    assert "cannot" not in console.reuse_line(3, 0, 0, Path("/c"), fresh=False)
