"""tox.ini and its plugin: labels select runtime envs, `dev` is an editable install."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

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


def test_a_wazero_env_builds_the_go_worker_against_its_release() -> None:
    ((commands, deps),) = tox_config(
        "-e", "wazero-1.8.2-compiler", "-k", "commands", "deps"
    ).values()
    assert "harness.provision.go_worker" in commands and "build 1.8.2 --into" in commands
    assert "wazero-1.8.2-compiler" in commands and deps == ""


def test_dev_is_an_editable_install_with_the_dev_tools() -> None:
    (values,) = tox_config("-e", "dev", "-k", "package", "extras").values()
    assert values == ["editable", "dev"]
