"""tox.ini and its plugin: labels select runtime envs, `dev` is an editable install."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.provision import go_worker

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(shutil.which("tox") is None, reason="tox is not installed")


def tox_config(*args: str) -> dict[str, list[str]]:
    """{env: [values of the asked keys]} from `tox config`, without creating any env."""
    proc = subprocess.run(
        ["tox", "config", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    found: dict[str, list[str]] = {}
    env = ""
    for line in proc.stdout.splitlines():
        header = re.fullmatch(r"\[testenv:(.+)\]", line.strip())
        if header:
            env = header.group(1)
            found[env] = []
        elif " = " in line and env:
            found[env].append(line.split(" = ", 1)[1])
    return found


def test_labels_select_families_and_the_newest_release_of_each_line() -> None:
    assert sorted(tox_config("-m", "latest", "-k", "env_name")) == [
        "wasmer-1.1.0-dylib-cranelift",
        "wasmer-1.1.0-dylib-llvm",
        "wasmer-1.1.0-dylib-singlepass",
        "wasmer-1.1.0-universal-cranelift",
        "wasmer-1.1.0-universal-llvm",
        "wasmer-1.1.0-universal-singlepass",
        "wasmtime-50.0.1",
        "wazero-1.12.0-compiler",
        "wazero-1.12.0-interpreter",
    ]
    wasmtime = tox_config("-m", "wasmtime", "-k", "env_name")
    assert len(wasmtime) == 18 and all(name.startswith("wasmtime-") for name in wasmtime)
    assert len(tox_config("-m", "wasmer", "-k", "env_name")) == 12
    wazero = tox_config("-m", "wazero", "-k", "env_name")
    assert len(wazero) == 18 and all(name.startswith("wazero-") for name in wazero)


def test_a_wazero_env_installs_nothing_and_runs_nothing_its_worker_comes_at_setup() -> None:
    """The worker is put in as tox sets the env up (test_tox_setup), so `--notest` has it."""
    ((commands, deps),) = tox_config(
        "-e", "wazero-1.8.2-compiler", "-k", "commands", "deps"
    ).values()
    assert commands == "" and deps == ""


def test_dev_is_an_editable_install_with_the_dev_tools() -> None:
    (values,) = tox_config("-e", "dev", "-k", "package", "extras").values()
    assert values == ["editable", "dev"]


def test_the_plugin_is_wasm_compat_s_own_through_tox_s_entry_point() -> None:
    proc = subprocess.run(["tox", "--version"], capture_output=True, text=True, timeout=60)
    assert re.search(r"wasm-compat-\S+ at \S+/harness/tox_plugin\.py", proc.stdout), proc.stdout
    assert "inline plugin" not in proc.stdout  # a toxfile.py would register the hooks twice


def sections(tox_ini: str, root: Path, *args: str) -> dict[str, str]:
    """{env: its part of `tox config` ARGS} in a project holding only this tox.ini."""
    (root / "tox.ini").write_text(tox_ini)
    proc = subprocess.run(
        ["tox", "config", *args], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    parts = re.split(r"^\[testenv:(.+)\]$", proc.stdout, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def test_testenv_settings_do_not_reach_runtime_envs_but_their_own_section_does(
    tmp_path: Path,
) -> None:
    """A project's [testenv] is for its own envs: a runtime env keeps what its name says, and
    only a [testenv:NAME] section overrides that."""
    found = sections(
        "[tox]\nenv_list = wasmtime-{39.0.0, 50.0.1}, wazero-1.12.0-compiler, app\n"
        "[testenv]\ndeps = pytest\ncommands = pytest\nskip_install = false\n"
        "[testenv:wasmtime-39.0.0]\ndeps = wasmtime==39.0.0\n    cffi\n",
        tmp_path,
        *("-k", "deps", "commands", "skip_install", "labels"),
    )
    assert "deps = wasmtime==50.0.1" in found["wasmtime-50.0.1"]
    assert "commands = python -c 'import sys; print(sys.version)'" in found["wasmtime-50.0.1"]
    assert "skip_install = True" in found["wasmtime-50.0.1"]
    assert "wasmtime==39.0.0\n  cffi" in found["wasmtime-39.0.0"]  # its own section wins
    go = found["wazero-1.12.0-compiler"]
    assert "deps = \n" in go and "commands = \n" in go
    assert "labels =\n  latest\n  wazero" in go
    assert "deps = pytest" in found["app"] and "commands = pytest" in found["app"]


def test_the_matrix_runs_the_harness_tox_imports_on_every_runtime_or_the_posargs(
    tmp_path: Path,
) -> None:
    ini = "[tox]\nenv_list = wasmtime-{39.0.0, 50.0.1}, matrix\n"
    everything = sections(ini, tmp_path, "-e", "matrix", "-k", "commands", "depends")["matrix"]
    assert f"-m harness run --out {tmp_path / 'reports'} --runtime all" in everything
    assert "depends =\n  wasmtime-39.0.0\n  wasmtime-50.0.1" in everything
    some = sections(
        ini, tmp_path, "-e", "matrix", "-k", "commands", "--", "--runtime", "wasmtime-50"
    )
    assert f"--out {tmp_path / 'reports'} --runtime wasmtime-50\n" in some["matrix"]


@pytest.mark.integration
def test_tox_notest_provisions_a_wazero_env_with_its_worker(tmp_path: Path) -> None:
    """Setting the env up is provisioning it: `--notest` skips commands, not the worker."""
    if shutil.which("go") is None:
        pytest.skip("no Go toolchain on PATH")
    name = "wazero-1.12.0-compiler"
    proc = subprocess.run(
        ["tox", "run", "--notest", "-e", name, "--workdir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert go_worker.env_state(tmp_path / name).worker == tmp_path / name / "bin" / "wazero-worker"
