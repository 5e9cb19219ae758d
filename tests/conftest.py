from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from harness.model.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent

# Scenario files the tests hand to the harness themselves, not for the pytest plugin to collect.
collect_ignore_glob = ["data/*"]


@pytest.fixture
def project_root() -> Path:
    return ROOT


@pytest.fixture
def scenario_dir(tmp_path: Path) -> Path:
    """A scratch project: scenarios/ beside a wasm_fixtures/ linked to the real fixtures."""
    (tmp_path / "wasm_fixtures").symlink_to(ROOT / "wasm_fixtures")
    folder = tmp_path / "scenarios"
    folder.mkdir()
    return folder


@pytest.fixture(scope="session")
def own_wasmtime() -> Runtime:
    """The wasmtime of the interpreter running the tests (the `test` extra pins it), which the
    integration tests run the harness on: missing, the test fails; unable to start on this
    machine, it is skipped with the probe's reason (see runtime_envs)."""
    from runtime_envs import usable

    return usable(sys.executable, "wasmtime", name="this interpreter's wasmtime")
