"""The worker and adapters run on Python 3.9 (wasmer's wheels stop at 3.10)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from runtime_envs import cached_env

from harness.provision.interpreters import default_prefix, stable_path

ROOT = Path(__file__).resolve().parents[3]
WORKER_DIRS = ("harness/worker", "harness/model")
CANDIDATES = (
    os.environ.get("WASM_COMPAT_PYTHON39", ""),
    # `python -m harness.provision.interpreters install` puts one there
    str(stable_path(default_prefix(dict(os.environ)))),
    "/root/.pyenv/versions/3.9.18/bin/python3.9",
)


def test_worker_code_parses_as_python39() -> None:
    for folder in WORKER_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            ast.parse(path.read_text(), filename=str(path), feature_version=(3, 9))


def test_worker_imports_only_stdlib_its_package_and_the_runtime() -> None:
    allowed_roots = set(sys.stdlib_module_names) | {"harness", "wasmtime", "wasmer", "__future__"}
    for folder in WORKER_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    assert name.split(".")[0] in allowed_roots, f"{path}: imports {name}"
                    if name.startswith("harness."):
                        assert name.startswith(("harness.worker", "harness.model")), (
                            f"{path}: imports {name}, which the worker env does not have"
                        )


def python39() -> str:
    for candidate in CANDIDATES:
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.skip("no CPython 3.9 found (run `python -m harness.provision.interpreters install`)")


@pytest.mark.integration
def test_scenarios_run_on_a_python39_worker(tmp_path: Path) -> None:
    python = cached_env("py39-wasmtime-25.0.0", python39(), ["wasmtime==25.0.0"])
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "run",
            "--python",
            python,
            "--out",
            str(out),
            "-k",
            "serialize",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    doc = json.loads((out / "compat.json").read_text())
    assert doc["runtimes"][0]["python"].startswith("3.9"), doc["runtimes"]
    assert doc["summary"]["harness_errors"] == 0
    assert proc.returncode == 0, proc.stdout
    assert doc["summary"]["runs"] >= 5
