"""wasm-compat in someone else's repository: `wasm-compat init` in a new git repository, then
`tox` there with the plugin found through tox's entry point (nothing copied); and the CI workflow
init wrote, its shard and merge jobs run here step by step as the YAML has them, giving the same
report as one unsharded run.

Real tox, real wasmtime releases (from uv's cache after the first run) and, for the workflow's
wazero shard, the Go worker built against wazero 1.12.0 (cached by release).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.provision import go_worker, starter

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # this interpreter's tox and wasm-compat
WORKFLOW = ".github/workflows/wasm-compat.yml"
# What differs between two runs of the same thing, besides the folders they ran in (each job has
# its own checkout, as on GitHub): clocks.
VOLATILE = {"started", "finished", "duration_s", "compile_s"}


def environment(**extra: str) -> dict[str, str]:
    """This environment, less any tox run's own (TOX_WORK_DIR would point the harness at that
    run's envs), with this interpreter's commands first on PATH."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("TOX_")}
    return {**kept, "PATH": f"{BIN}{os.pathsep}{kept.get('PATH', '')}", **extra}


def sh(cwd: Path, script: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """A `run:` script, in the shell GitHub runs it in on Linux."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environment(**extra),
        timeout=900,
    )


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A new git repository (an application's) into which `wasm-compat init` wrote its files."""
    if shutil.which("tox", path=str(BIN)) is None:
        pytest.skip("tox is not installed beside wasm-compat (pip install -e '.[test]')")
    root = tmp_path / "app"
    root.mkdir()
    ok(sh(root, "git init -q && git config user.email a@b.c && git config user.name app"))
    (root / "README.md").write_text("an application\n")
    made = ok(sh(root, f"{sys.executable} -m harness init"))
    assert [line for line in made.splitlines() if line.startswith("wrote ")] == [
        f"wrote {name}" for name in starter.FILES
    ]
    return root


def test_init_then_tox_runs_the_example_with_the_installed_plugin(repository: Path) -> None:
    status = ok(sh(repository, "git status --porcelain --untracked-files=all"))
    assert sorted(status.split()[1::2]) == sorted([*starter.FILES, "README.md"])

    version = ok(sh(repository, "tox --version"))
    assert re.search(r"wasm-compat-\S+ at \S+/harness/tox_plugin\.py", version), version

    out = ok(sh(repository, "tox -e wasmtime-50.0.1,matrix -- --runtime wasmtime-50.0.1"))
    assert "wasmtime-50.0.1: OK" in out and "matrix: OK" in out and "congratulations" in out
    document = json.loads((repository / "reports" / "compat.json").read_text())
    (run,) = document["runs"]
    assert (run["scenario"], run["runtime"], run["status"]) == (
        "compile_cache_restart",
        "wasmtime-50.0.1",
        "pass",
    )
    assert [r["name"] for r in document["runtimes"]] == ["wasmtime-50.0.1"]


def test_a_regular_install_provides_the_plugin_and_the_go_build_finds_it(tmp_path: Path) -> None:
    """Not editable: a wheel in a fresh venv with its own tox, whose plugin (imported from that
    venv's site-packages) puts the Go worker into the wazero env as tox sets it up."""
    if shutil.which("uv", path=str(BIN)) is None:
        pytest.skip("uv is not installed beside wasm-compat")
    source = tmp_path / "source"  # a copy: a build writes into the tree it builds
    shutil.copytree(ROOT / "harness", source / "harness", ignore=shutil.ignore_patterns("__py*"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    ok(sh(tmp_path, f"uv build -q --wheel --out-dir dist {source}"))
    ok(
        sh(
            tmp_path,
            "uv venv -q venv && uv pip install -q -p venv/bin/python dist/*.whl tox tox-uv",
        )
    )
    app = tmp_path / "app"
    app.mkdir()
    ok(sh(app, "../venv/bin/wasm-compat init"))
    where = "import harness, pathlib; print(pathlib.Path(harness.__file__).parent.parent)"
    site = ok(sh(app, f"../venv/bin/python -c '{where}'")).strip()
    assert site.endswith("site-packages") and site.startswith(str(tmp_path / "venv"))
    assert f"at {site}/harness/tox_plugin.py" in ok(sh(app, "../venv/bin/tox --version"))
    go = "wazero-1.12.0-compiler"
    ok(sh(app, f"../venv/bin/tox -e {go} --notest"))
    made = {p.name for p in (app / ".tox" / go).rglob("*")}
    assert made & {go_worker.BINARY, go_worker.NOT_PROVISIONED}  # a worker, or why not (no Go)


# -- the workflow, run here ---------------------------------------------------------------------


def pin(root: Path, *lines: str) -> None:
    """Pin fewer runtimes, as a user edits tox.ini (the workflow reads no runtime names)."""
    ini = root / "tox.ini"
    listed = "".join(f"    {line}\n" for line in (*lines, "matrix"))
    text, count = re.subn(
        r"(?m)^env_list =\n(?:    .*\n)+", f"env_list =\n{listed}", ini.read_text()
    )
    assert count == 1
    ini.write_text(text)


def substitute(text: str, matrix: dict[str, str]) -> str:
    """`${{ matrix.NAME }}` and `${{ github.run_id }}`; any other expression in a command is
    beyond this test."""
    done = re.sub(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", lambda m: matrix[m.group(1)], text)
    done = re.sub(r"\$\{\{\s*github\.run_id\s*\}\}", "1", done)
    assert "${{" not in done, f"an expression the test cannot evaluate: {done}"
    return done


def use(step: dict[str, Any], matrix: dict[str, str], job: Path, artifacts: Path) -> None:
    """An action, as it would leave this job's checkout and the run's artifacts."""
    action, _, _ = step["uses"].partition("@")
    given = {k: substitute(str(v), matrix) for k, v in step.get("with", {}).items()}
    if action in ("actions/setup-python", "actions/setup-go"):
        return  # this machine's Python (the one running the tests) and Go
    if action == "actions/cache":
        assert given["key"].startswith(given["restore-keys"])  # a later run restores this one's
        return  # the workflow's first run: nothing to restore (the test's own cache is empty)
    if action == "actions/upload-artifact":
        shutil.copytree(job / given["path"], artifacts / given["name"])
    elif action == "actions/download-artifact":
        for artifact in sorted(artifacts.iterdir()):
            if fnmatch.fnmatchcase(artifact.name, given["pattern"]):
                shutil.copytree(artifact, job / given["path"] / artifact.name)
    else:
        raise AssertionError(f"an action the test does not know: {step['uses']}")


def run_job(
    name: str, spec: dict[str, Any], matrix: dict[str, str], origin: Path, work: Path
) -> Path:
    """One job in a fresh clone of the repository (its checkout); each step in order."""
    job = work / f"{name}-{'-'.join(matrix.values()) or 'job'}"
    artifacts = work / "artifacts"
    artifacts.mkdir(exist_ok=True)
    summary = work / f"{job.name}.summary.md"
    steps = spec["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    ok(sh(work, f"git clone -q {origin} {job}"))
    for step in steps[1:]:
        assert step.get("if", "always()") == "always()" or "uses" in step, step
        if "uses" in step:
            use(step, matrix, job, artifacts)
        elif step["run"].startswith("pip install"):
            continue  # this interpreter has them: the wasm-compat under test, tox, tox-uv
        else:
            proc = sh(job, substitute(step["run"], matrix), GITHUB_STEP_SUMMARY=str(summary))
            assert proc.returncode == 0, (
                f"{name} {matrix}: {step['run']}\n{proc.stdout}{proc.stderr}"
            )
    return job


def comparable(document: Any, checkouts: list[Path]) -> Any:
    """The document less what differs between runs of the same thing (VOLATILE), with the
    folder each job ran in named alike."""
    if isinstance(document, dict):
        return {k: comparable(v, checkouts) for k, v in document.items() if k not in VOLATILE}
    if isinstance(document, list):
        return [comparable(v, checkouts) for v in document]
    if isinstance(document, str):
        for checkout in checkouts:
            document = document.replace(str(checkout), "<checkout>")
    return document


def test_the_workflow_s_shards_merged_equal_one_unsharded_run(
    repository: Path, tmp_path: Path
) -> None:
    try:
        go_worker.go_command()
    except go_worker.GoMissing as exc:
        pytest.skip(f"the workflow's wazero shard needs Go: {exc}")
    pin(repository, "wasmtime-{39.0.0, 50.0.1}", "wazero-1.12.0-compiler")
    ok(sh(repository, "git add -A && git commit -qm 'wasm-compat: init'"))
    jobs = yaml.safe_load((repository / WORKFLOW).read_text())["jobs"]
    assert list(jobs) == ["shard", "merge"] and jobs["merge"]["needs"] == "shard"
    work = tmp_path / "runner"
    work.mkdir()
    ((key, values),) = jobs["shard"]["strategy"]["matrix"].items()
    for value in values:
        shard = run_job("shard", jobs["shard"], {key: value}, repository, work)
        assert json.loads((shard / "shard" / "compat.json").read_text())["runs"]
    merged = run_job("merge", jobs["merge"], {}, repository, work)
    assert (work / "artifacts" / "wasm-compat-report" / "compat.html").is_file()
    summary = (work / f"{merged.name}.summary.md").read_text()
    assert summary == (merged / "reports" / "summary.md").read_text() and summary

    # every runtime, then the matrix: reports/ (run afresh, not reused from the shards' runs)
    ok(sh(repository, "tox -p auto -- --runtime all --fresh"))
    whole = json.loads((repository / "reports" / "compat.json").read_text())
    joined = json.loads((merged / "reports" / "compat.json").read_text())
    assert len(whole["runs"]) == 3 and {r["status"] for r in whole["runs"]} == {"pass"}
    checkouts = [repository, *work.glob("shard-*"), merged]
    assert comparable(joined["runs"], checkouts) == comparable(whole["runs"], checkouts)
    assert comparable(joined, checkouts) == comparable(whole, checkouts)
