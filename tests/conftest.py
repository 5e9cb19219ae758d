from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
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


RESULTS_CACHE = "WASM_COMPAT_RESULTS_CACHE"


def _fresh_results_cache(factory: pytest.TempPathFactory) -> str:
    """An empty result cache (made only when a run keeps something there)."""
    return str(factory.getbasetemp() / "results-cache" / uuid.uuid4().hex)


@pytest.fixture(scope="module", autouse=True)
def _module_results_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """What a module's own fixtures run (before any of its tests) keeps its runs in a cache of
    the module's, never the user's, and reuses nothing of another module or session."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(RESULTS_CACHE, _fresh_results_cache(tmp_path_factory))
        yield


@pytest.fixture(autouse=True)
def _own_results_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test its own (empty) result cache: a test that runs a scenario must run it, not
    reuse what another test ran."""
    folder = _fresh_results_cache(tmp_path_factory)
    monkeypatch.setenv(RESULTS_CACHE, folder)
    return Path(folder)


def _install_npm_corpus() -> Path | None:
    """corpus/node_modules, installed as corpus/package-lock.json pins it when it is not there
    yet (the npm half of the real-world corpus, scenarios/real_world/); None without npm."""
    corpus = ROOT / "corpus"
    installed = corpus / "node_modules" / ".package-lock.json"
    with open(corpus / ".install.lock", "w") as lock:  # xdist workers install it once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not installed.is_file():
            npm = shutil.which("npm")
            if npm is None:
                return None
            command = [npm, "ci", "--prefix", str(corpus), "--no-audit", "--no-fund"]
            subprocess.run(command, check=True, capture_output=True, timeout=600)
    return corpus / "node_modules"


@pytest.fixture(scope="session", autouse=True)
def _npm_corpus_installed() -> None:
    """Every test that runs the bundled scenarios (scenarios/real_world names npm modules) finds
    them installed, as `tox` installs them for the matrix."""
    _install_npm_corpus()


@pytest.fixture(scope="session")
def npm_corpus() -> Path:
    """The npm corpus; the test is skipped, saying so, on a machine without npm."""
    found = _install_npm_corpus()
    if found is None:
        pytest.skip("npm is not on PATH: the corpus's npm modules cannot be installed")
    return found


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
