"""wazero, the Go runtime, through the command line on real releases: the seed scenario's
transitions and its baseline, bisecting its break, what `runtimes` says of a wazero env, and a
wazero env that tox provisions without Go.

Each release's worker is built with the machine's Go (`go_worker.build`: ~15 s a release cold,
then cached by release, worker source and toolchain in the wasm-compat cache dir) and put into a
throwaway project's `.tox` by `go_worker.install`, as tox does. Without Go every test is skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from harness.provision import go_worker

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SEED = "two_modules_same_bytes"
SEED_FILE = f"scenarios/{SEED}.yaml"
SEED_RELEASES = ("1.6.0", "1.7.0", "1.9.0", "1.10.0")
NOT_COMPILED = "source module must be compiled before instantiation"
NIL_PANIC = "panic: runtime error: invalid memory address or nil pointer dereference"
INSTANTIATE_STEP, CLOSE_STEP = 3, 5  # 0-based: `instantiate`, and the last, `close: {always}`
TIMEOUT_S = 900  # a cold build of each release the command needs


@pytest.fixture(scope="module", autouse=True)
def go() -> str:
    """The machine's go command; without one no worker can be built and every test is skipped."""
    try:
        return go_worker.go_command()
    except go_worker.GoMissing as exc:
        pytest.skip(f"the wazero worker cannot be built here: {exc}")


def compiler(version: str) -> str:
    return f"wazero-{version}-compiler"


def make_project(root: Path, runtimes: Sequence[str]) -> Path:
    """A project of our own pinning these runtimes: the seed, the real fixtures, baseline and
    tox plugin (wasm-compat's own, through tox's entry point: nothing copied)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "wasm_fixtures").symlink_to(ROOT / "wasm_fixtures")
    shutil.copy(ROOT / "compat-baseline.yaml", root)
    (root / "scenarios").mkdir()
    shutil.copy(ROOT / SEED_FILE, root / "scenarios")
    pins = "".join(f"    {name}\n" for name in runtimes)
    (root / "tox.ini").write_text(
        f"[tox]\nenv_list =\n{pins}[testenv]\nskip_install = true\nignore_outcome = true\n"
    )
    return root


def provide(root: Path, name: str, version: str) -> Path:
    """The worker built against `version` in the project's env NAME, as `tox -e NAME` puts it."""
    state = go_worker.install(version, root / ".tox" / name)
    assert state.worker is not None, f"wazero {version}: {state.problem}"
    return state.worker


def environment(**changes: str) -> dict[str, str]:
    """This environment for a command of the project, outside any tox run that runs the tests
    (TOX_WORK_DIR would point the harness at that run's envs)."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("TOX_")}
    return {**kept, **changes}


def cli(
    root: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=dict(env or environment()),
        timeout=TIMEOUT_S,
    )


def rows(table: str) -> dict[str, str]:
    """`wasm-compat runtimes`' rows by runtime name, each with its spacing collapsed."""
    return {line.split()[0]: " ".join(line.split()) for line in table.splitlines() if line.strip()}


# -- the seed through `wasm-compat run` ---------------------------------------------------------


@pytest.fixture(scope="module")
def seed_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("seed"), [compiler(v) for v in SEED_RELEASES])
    for version in SEED_RELEASES:
        provide(root, compiler(version), version)
    return root


@pytest.fixture(scope="module")
def seed_run(seed_project: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    out = seed_project / "reports"
    proc = cli(seed_project, "run", SEED_FILE, "--runtime", "all", "--out", str(out))
    return proc, json.loads((out / "compat.json").read_text())


def changes(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """The seed's transitions that are not `same`, by (from, to) release."""
    version = {compiler(v): v for v in SEED_RELEASES}
    return {
        (version[t["from"]], version[t["to"]]): t
        for t in doc["transitions"]
        if t["scenario"] == SEED and t["kind"] != "same"
    }


def test_the_seed_breaks_in_1_7_0_with_a_panic_at_close_and_is_fixed_twice(seed_run: tuple) -> None:
    proc, doc = seed_run
    assert [r["status"] for r in doc["runtimes"]] == ["ok"] * len(SEED_RELEASES), proc.stdout
    found = changes(doc)
    assert sorted(found) == [("1.6.0", "1.7.0"), ("1.7.0", "1.9.0"), ("1.9.0", "1.10.0")]

    broke = found[("1.6.0", "1.7.0")]
    assert (broke["kind"], broke["before"]) == ("break", {"outcome": "ok"})
    crash = broke["after"]
    assert (crash["outcome"], crash["op"], crash["step"]) == ("crash", "close", CLOSE_STEP)
    assert NIL_PANIC in crash["message"] and crash["message"].startswith("worker exited with 2")

    first_fix = found[("1.7.0", "1.9.0")]
    assert (first_fix["kind"], first_fix["before"]["outcome"]) == ("fix", "crash")
    refused = first_fix["after"]
    assert (refused["outcome"], refused["op"], refused["step"]) == (
        "error",
        "instantiate",
        INSTANTIATE_STEP,
    )
    assert refused["message"] == NOT_COMPILED

    second_fix = found[("1.9.0", "1.10.0")]
    assert (second_fix["kind"], second_fix["before"]) == ("fix", refused)
    assert second_fix["after"] == {"outcome": "ok"}


def test_on_1_7_0_instantiate_fails_before_the_deferred_close_panics(seed_run: tuple) -> None:
    _, doc = seed_run
    (run,) = [r for r in doc["runs"] if r.get("runtime") == compiler("1.7.0")]
    steps = run["steps"]
    assert (steps[INSTANTIATE_STEP]["outcome"], steps[INSTANTIATE_STEP]["message"]) == (
        "error",
        NOT_COMPILED,
    )
    assert steps[CLOSE_STEP]["outcome"] == "crash" and steps[CLOSE_STEP]["exit_code"] == 2
    assert NIL_PANIC in steps[CLOSE_STEP]["stderr_tail"]
    assert run["status"] == "pass"  # the scenario states both as known on 1.7.x


def test_the_project_baseline_accepts_the_1_7_0_break(seed_project: Path, seed_run: tuple) -> None:
    proc, doc = seed_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    verdict = doc["verdict"]
    assert verdict["new_breaks"] == [] and verdict["stale_entries"] == []
    ((before, after),) = [(t["from"], t["to"]) for t in verdict["accepted_breaks"]]
    assert (before, after) == (compiler("1.6.0"), compiler("1.7.0"))
    assert "0 new break(s) against compat-baseline.yaml" in proc.stdout

    # without it the same results fail the gate: the exit 0 above is the baseline's doing
    bare = cli(seed_project, "diff", "reports", "--baseline", "no-baseline.yaml")
    assert bare.returncode == 1, bare.stdout + bare.stderr
    assert "1 new break(s)" in bare.stdout


# -- bisect -------------------------------------------------------------------------------------


def test_bisect_names_1_7_0_as_the_first_release_that_differs(
    seed_project: Path, tmp_path: Path
) -> None:
    proc = cli(
        seed_project,
        *("bisect", SEED_FILE, "--family", "wazero", "--variant", "compiler"),
        *("--good", "1.6.0", "--bad", "1.8.2", "--out", str(tmp_path / "bisect")),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    head, found, tail = proc.stdout.partition("first release that differs: ")
    assert found and tail.startswith("wazero 1.7.0 (1.6.0 is the last that behaves like 1.6.0)")
    boundary = [" ".join(line.split()) for line in tail.splitlines()[1:3]]
    assert boundary[0] == "1.6.0 ok"
    assert boundary[1].startswith("1.7.0 crash (exit 2 at close: panic: runtime error")
    assert "--good 1.6.0 --bad 1.7.0 --variant compiler" in tail  # the reproduce command
    assert "release(s) between 1.6.0 and 1.8.2" in head


# -- wasm-compat runtimes -----------------------------------------------------------------------


def test_runtimes_shows_the_linked_version_and_why_a_release_does_not_build(
    tmp_path: Path,
) -> None:
    mislabelled, unbuildable = compiler("1.7.0"), compiler("0.0.9")
    root = make_project(tmp_path, [compiler("1.6.0"), mislabelled, unbuildable])
    provide(root, compiler("1.6.0"), "1.6.0")
    provide(root, mislabelled, "1.6.0")  # the version shown must come from the binary
    failed = go_worker.install("0.0.9", root / ".tox" / unbuildable)
    assert failed.worker is None and failed.provisioned, failed

    proc = cli(root, "runtimes")
    assert proc.returncode == 0, proc.stderr
    table = rows(proc.stdout)
    assert table[compiler("1.6.0")].split()[1:2] == ["ok"]
    assert "wazero 1.6.0" in table[compiler("1.6.0")]
    assert "unavailable" in table[mislabelled]
    assert "tox env has wazero 1.6.0, tox.ini pins 1.7.0" in table[mislabelled]
    output = (root / ".tox" / unbuildable / go_worker.BUILD_FAILED).read_text()
    go_says = next(line for line in output.splitlines()[1:] if line.startswith("go: "))
    assert "0.0.9" in go_says
    assert "unavailable" in table[unbuildable]
    assert f"does not build: {go_says}" in table[unbuildable]
    assert "3 runtime(s) pinned" in proc.stdout and "3 provisioned" in proc.stdout


# -- tox without Go -----------------------------------------------------------------------------


def without_go(go: str) -> dict[str, str]:
    """This environment with no directory on PATH that holds a go command; python and tox are
    run by their absolute paths, and the rest of PATH stays."""
    kept = [d for d in os.environ["PATH"].split(os.pathsep) if shutil.which("go", path=d) is None]
    path = os.pathsep.join(kept)
    assert shutil.which("go", path=path) is None, f"{go} is still on PATH"
    return environment(PATH=path)


def test_tox_provisions_a_wazero_env_without_go_as_not_provisioned(go: str, tmp_path: Path) -> None:
    if importlib.util.find_spec("tox") is None:
        pytest.skip("tox is not installed (pip install tox tox-uv)")
    name = compiler("1.8.2")
    root = make_project(tmp_path / "project", [name])
    env = without_go(go)
    env["UV_CACHE_DIR"] = str(tmp_path / "uv-cache")  # uv, if tox uses it, writes nothing else

    tox = subprocess.run(
        [sys.executable, "-m", "tox", "-e", name],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT_S,
    )
    assert tox.returncode == 0, tox.stdout[-3000:] + tox.stderr[-3000:]
    assert "wazero 1.8.2: no Go toolchain on PATH" in tox.stdout + tox.stderr
    assert not (root / ".tox" / name / "bin" / go_worker.BINARY).exists()

    proc = cli(root, "runtimes", env=env)
    assert proc.returncode == 0, proc.stderr
    row = rows(proc.stdout)[name]
    assert row.startswith(f"{name} not provisioned ")
    assert "no Go toolchain on PATH (the wazero worker is built with `go build`)" in row
    assert "0 provisioned" in proc.stdout
