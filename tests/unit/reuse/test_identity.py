"""Identities read from files: equal exactly when what a run depends on is equal."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.reuse.identity import (
    go_worker_identity,
    python_env_identity,
    sources_identity,
)


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A venv's files as tox and uv leave them: the interpreter, pyvenv.cfg, one wheel."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").symlink_to(sys.executable)
    (tmp_path / "pyvenv.cfg").write_text(
        f"home = {Path(sys.executable).parent}\nversion_info = 3.11.7\n"
    )
    dist = tmp_path / "lib" / "python3.11" / "site-packages" / "wasmtime-50.0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "RECORD").write_text("wasmtime/__init__.py,sha256=aaaa,100\n")
    return tmp_path / "bin" / "python"


def test_a_venv_is_read_from_its_files(venv: Path) -> None:
    first = python_env_identity(str(venv))
    assert first is not None and first == python_env_identity(str(venv))


def test_another_wheel_is_another_env(venv: Path) -> None:
    before = python_env_identity(str(venv))
    record = next(venv.parent.parent.glob("lib/*/site-packages/*.dist-info/RECORD"))
    record.write_text("wasmtime/__init__.py,sha256=bbbb,100\n")  # same version, other bytes
    assert python_env_identity(str(venv)) != before


def test_another_distribution_is_another_env(venv: Path) -> None:
    before = python_env_identity(str(venv))
    site = next(venv.parent.parent.glob("lib/*/site-packages"))
    (site / "wasmer-1.1.0.dist-info").mkdir()
    (site / "wasmer-1.1.0.dist-info" / "RECORD").write_text("wasmer/__init__.py,,\n")
    assert python_env_identity(str(venv)) != before


def test_another_base_interpreter_is_another_env(venv: Path) -> None:
    before = python_env_identity(str(venv))
    config = venv.parent.parent / "pyvenv.cfg"
    config.write_text(config.read_text().replace("3.11.7", "3.11.8"))
    assert python_env_identity(str(venv)) != before


def test_a_venv_elsewhere_with_the_same_wheels_is_the_same_env(venv: Path, tmp_path: Path) -> None:
    config = venv.parent.parent / "pyvenv.cfg"
    config.write_text(config.read_text() + "prompt = checkout-1[wasmtime-50.0.1]\nuv = 0.13.9\n")
    before = python_env_identity(str(venv))
    config.write_text(config.read_text().replace("checkout-1", "checkout-2").replace("13.9", "14"))
    assert python_env_identity(str(venv)) == before


def test_an_interpreter_that_is_no_venv_is_asked(tmp_path: Path) -> None:
    assert python_env_identity(sys.executable) is not None
    assert python_env_identity(str(tmp_path / "no-python")) is None


def test_a_go_worker_is_its_binary(tmp_path: Path) -> None:
    binary = tmp_path / "wasm-compat-worker"
    binary.write_bytes(b"\x7fELF built against v1.8.2")
    first = go_worker_identity(binary)
    binary.write_bytes(b"\x7fELF built against v1.9.0")
    assert first is not None and go_worker_identity(binary) not in (None, first)
    assert go_worker_identity(tmp_path / "missing") is None


def test_an_edited_source_is_another_harness(tmp_path: Path) -> None:
    (tmp_path / "worker").mkdir()
    source = tmp_path / "worker" / "segment.py"
    source.write_text("STEP = 1\n")
    before = sources_identity(tmp_path, "0.1.0")
    assert before.startswith("0.1.0+") and sources_identity(tmp_path, "0.1.1") != before
    source.write_text("STEP = 22\n")  # (another size: the digest memo is by size and time)
    assert sources_identity(tmp_path, "0.1.0") != before
