"""The matrix end to end: tox provisions three real wasmtime releases from a tox.ini, and
`wasm-compat run`, `diff`, `baseline accept` and `merge` find real transitions between them.

Marked `matrix`: it installs releases from the package index on first use (uv caches them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from runtime_envs import probed, usable

pytestmark = [pytest.mark.integration, pytest.mark.matrix]

ROOT = Path(__file__).resolve().parents[2]
RELEASES = ("0.20.0", "0.30.0", "50.0.1")
SCENARIOS = (
    "deserialize_plain_wasm.yaml",
    "upgrade_serialized_imports.yaml",
    "feature_defaults.yaml",
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project of our own, three pinned releases; the tox plugin is wasm-compat's own, found
    through tox's entry point (nothing copied)."""
    if shutil.which("tox") is None:
        pytest.skip("tox is not installed (pip install tox tox-uv)")
    root = tmp_path_factory.mktemp("project")
    (root / "wasm_fixtures").symlink_to(ROOT / "wasm_fixtures")
    (root / "scenarios").mkdir()
    for name in SCENARIOS:
        shutil.copy(ROOT / "scenarios" / name, root / "scenarios")
    (root / "tox.ini").write_text(
        "[tox]\nrequires = tox-uv\nenv_list =\n"
        f"    wasmtime-{{{', '.join(RELEASES)}}}\n"
        "[testenv]\nskip_install = true\n"
        # as the project's own: 0.20.0 cannot start on some CPUs, and need not for the gate
        "[wasm-compat]\nrequire_runtimes = wasmtime-0.30.0 wasmtime-50.0.1\n"
    )
    envs = ",".join(f"wasmtime-{r}" for r in RELEASES)
    proc = subprocess.run(
        ["tox", "-e", envs], cwd=root, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    yield root


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TOX_WORK_DIR"}
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


def compat(out: Path) -> dict[str, Any]:
    return json.loads((out / "compat.json").read_text())


def kinds(doc: dict[str, Any]) -> dict[tuple[str, str, str, bool], str]:
    return {
        (t["scenario"], t["from"], t["to"], t["upgrade"]): t["kind"] for t in doc["transitions"]
    }


def tox_env(root: Path, release: str) -> str:
    return str(root / ".tox" / f"wasmtime-{release}" / "bin" / "python")


def test_runtimes_lists_what_tox_installed(project: Path) -> None:
    proc = cli(project, "runtimes")
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines() if line.strip()}
    for release in RELEASES:
        row = rows[f"wasmtime-{release}"]
        why = probed(tox_env(project, release), "wasmtime").unavailable
        if why is None:
            assert f"wasmtime {release}" in row  # the version actually installed
        else:  # this machine cannot start it: the row says so, with the probe's reason
            assert "unavailable" in row and why in row, row
    assert "3 provisioned" in proc.stdout


@pytest.fixture(scope="module")
def matrix_run(project: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], Path]:
    out = project / "reports"
    proc = cli(project, "run", "--runtime", "all", "--out", str(out))
    return proc, compat(out), out


def test_a_matrix_run_finds_real_transitions(project: Path, matrix_run: tuple) -> None:
    proc, doc, out = matrix_run
    assert proc.returncode == 1, proc.stdout + proc.stderr  # new breaks, no baseline yet
    assert doc["summary"]["failed"] == 0
    found = kinds(doc)
    # an artifact serialized by 0.30.0 is refused by 50.0.1: an upgrade break
    upgrade = ("upgrade_serialized_imports", "wasmtime-0.30.0", "wasmtime-50.0.1", True)
    assert found[upgrade] == "break"
    runs = [r for r in doc["runs"] if r.get("from") == "wasmtime-0.30.0"]
    assert {r["to"] for r in runs} == {f"wasmtime-{r}" for r in RELEASES}
    assert all("runtime" not in r for r in runs)
    changed = [r for r in doc["runs"] if r.get("reruns")]
    assert changed and all(len(r["reruns"]) == 2 and r["flaky"] is False for r in changed)
    assert "break (upgrade" in proc.stdout.lower()  # the table's kind column
    # the reports people and CI read, from this real run
    assert "upgrade_serialized_imports" in (out / "summary.md").read_text()
    assert (out / "junit.xml").read_bytes().startswith(b"<?xml")
    assert "wasmtime-0.20.0" in (out / "compat.html").read_text()

    # diff re-reads the saved results and agrees
    again = cli(project, "diff", str(out))
    assert again.returncode == 1
    assert "break (upgrade" in again.stdout.lower()

    # accepting the breaks makes the same run pass the gate
    accepted = cli(project, "baseline", "accept", str(out))
    assert accepted.returncode == 0, accepted.stderr
    assert "without a reason yet" in accepted.stdout
    gate = cli(project, "diff", str(out))
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "0 new break(s)" in gate.stdout


def test_what_0_20_aborts_on_0_30_fixes(project: Path, matrix_run: tuple) -> None:
    usable(tox_env(project, "0.20.0"), "wasmtime", name="wasmtime-0.20.0")  # or skipped
    proc, doc, _ = matrix_run
    found = kinds(doc)
    # 0.20.0 aborts when handed a plain .wasm to deserialize; 0.30.0 refuses it: a real fix
    assert found[("deserialize_plain_wasm", "wasmtime-0.20.0", "wasmtime-0.30.0", False)] == "fix"
    # the scenario states that abort as 0.20.0's known behaviour, so the run itself passes
    (plain,) = [
        r
        for r in doc["runs"]
        if r["case"] == "deserialize_plain_wasm" and r["runtime"] == "wasmtime-0.20.0"
    ]
    assert (plain["outcome"], plain["status"]) == ("crash", "pass")
    assert plain["known"] == [
        "wasmtime-py 0.20.0 aborts when handed a plain .wasm to deserialize (refused from 0.27.0)"
    ]
    assert doc["summary"]["known"] >= 1
    # 0.20.0 aborts compiling a reference-types module with its default config; the scenario
    # only observes that step, so the run passes, and the diff reports the fix in 0.30.0
    (aborted,) = [
        r
        for r in doc["runs"]
        if r["case"] == "feature_defaults[feature=reference_types]"
        and r["runtime"] == "wasmtime-0.20.0"
    ]
    assert (aborted["outcome"], aborted["status"]) == ("crash", "pass"), aborted["reason"]
    assert "observation that ended crash" in aborted["reason"]
    reference_types = ("feature_defaults", "wasmtime-0.20.0", "wasmtime-0.30.0", False)
    assert [
        t["kind"]
        for t in doc["transitions"]
        if (t["scenario"], t["from"], t["to"], t["upgrade"]) == reference_types
        and t["params"] == "feature=reference_types"
    ] == ["fix"]
    assert "FIX" in proc.stdout


def test_shards_merge_into_one_result_set(project: Path) -> None:
    shard_a, shard_b = project / "shard-a", project / "shard-b"
    common = ["-k", "upgrade", "--baseline", str(project / "none.yaml")]
    for shard, release in ((shard_a, "0.30.0"), (shard_b, "50.0.1")):
        cli(project, "run", "--runtime", f"wasmtime-{release}", "--out", str(shard), *common)
    merged = project / "merged"
    no_baseline = ["--baseline", str(project / "none.yaml")]
    proc = cli(project, "merge", str(shard_a), str(shard_b), "--out", str(merged), *no_baseline)
    doc = compat(merged)
    cross = [r for r in doc["runs"] if r.get("from") != r.get("to")]
    assert len(cross) == 2 and all(r["outcome"] == "not_run" for r in cross)
    assert all("different shards" in r["reason"] for r in cross)
    assert proc.returncode == 0  # nothing compared across the shards yet: no break

    proc = cli(
        project,
        "merge",
        str(shard_a),
        str(shard_b),
        "--out",
        str(merged),
        "--run-missing",
        *no_baseline,
    )
    doc = compat(merged)
    found = kinds(doc)
    assert (
        found[("upgrade_serialized_imports", "wasmtime-0.30.0", "wasmtime-50.0.1", True)] == "break"
    )
    assert proc.returncode == 1


def test_explore_and_the_pytest_plugin_use_the_pinned_runtimes(project: Path) -> None:
    proc = cli(
        project,
        "explore",
        "--runtime",
        "wasmtime-0.30.0",
        "--runtime",
        "wasmtime-50.0.1",
        "--seed",
        "1",
        "--max-examples",
        "40",
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # something found
    (found,) = (project / "scenarios" / "found").glob("found_*.yaml")
    assert "wasmtime-0.30.0" in found.read_text() and "wasm-compat explore" in found.read_text()
    assert list((project / "explore-db").glob("*.json"))
    again = cli(project, "validate", str(found))
    assert again.returncode == 0, again.stderr
    env = {k: v for k, v in os.environ.items() if k != "TOX_WORK_DIR"}
    pytest_cmd = (sys.executable, "-m", "pytest", "scenarios", "-q", "-p", "no:cacheprovider")
    tests = subprocess.run(
        [*pytest_cmd, "--wasm-runtime", "wasmtime-0.30.0", "-k", "deserialize_plain_wasm"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert "1 passed" in tests.stdout
