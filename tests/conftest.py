from __future__ import annotations

from pathlib import Path

import pytest

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
