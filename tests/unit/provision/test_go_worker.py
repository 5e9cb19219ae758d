"""Building the Go worker per wazero release: what an env says when it cannot be had."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.provision import go_worker


def test_the_first_error_is_the_compiler_s_line_not_the_package_heading() -> None:
    output = (
        "# wasm-compat/wazero-worker\n"
        "./engine.go:125:54: undefined: wazeroVersion\n"
        "./engine.go:130:2: too many errors\n"
    )
    assert go_worker.first_error(output) == "./engine.go:125:54: undefined: wazeroVersion"
    refused = "go: github.com/tetratelabs/wazero@v0.0.9: invalid version: unknown revision\n"
    assert go_worker.first_error(refused) == refused.strip()
    assert go_worker.first_error("") is None


def test_without_go_an_env_is_not_provisioned_and_says_why(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path / "empty"), "WASM_COMPAT_CACHE": str(tmp_path / "cache")}
    state = go_worker.install("1.8.2", tmp_path / "env", env)
    assert state.worker is None and not state.provisioned
    assert state.problem and "no Go toolchain on PATH" in state.problem
    read = go_worker.env_state(tmp_path / "env")
    assert (read.worker, read.provisioned, read.problem) == (None, False, state.problem)
    assert not (tmp_path / "cache").exists(), "nothing is made where nothing can be built"


def test_an_env_reads_as_what_its_build_left(tmp_path: Path) -> None:
    assert go_worker.env_state(tmp_path).provisioned is False  # nothing built yet
    (tmp_path / go_worker.BUILD_FAILED).write_text("./x.go:1:1: undefined: y\n\nthe output\n")
    failed = go_worker.env_state(tmp_path)
    assert failed.provisioned and failed.worker is None
    assert failed.problem and failed.problem.startswith("does not build: ./x.go:1:1: undefined: y")
    (tmp_path / go_worker.BUILD_FAILED).unlink()
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / go_worker.BINARY).write_bytes(b"")
    assert go_worker.env_state(tmp_path).worker == tmp_path / "bin" / go_worker.BINARY


@pytest.mark.integration
def test_a_release_that_does_not_exist_does_not_build_and_the_env_says_so(tmp_path: Path) -> None:
    try:
        go_worker.go_command()
    except go_worker.GoMissing as exc:
        pytest.skip(str(exc))
    state = go_worker.install("0.0.9", tmp_path / "env")
    assert state.worker is None and state.provisioned
    assert state.problem and "does not build against wazero 0.0.9: go: " in state.problem
    assert "0.0.9" in state.problem


def built_worker(tmp_path: Path) -> Path:
    built = tmp_path / "cache" / go_worker.BINARY
    built.parent.mkdir()
    built.write_bytes(b"\x7fELF worker")
    built.chmod(0o755)
    return built


def test_an_env_gets_a_hard_link_to_the_cached_worker_not_a_copy(tmp_path: Path) -> None:
    built = built_worker(tmp_path)
    target = tmp_path / "env" / "bin" / go_worker.BINARY
    target.parent.mkdir(parents=True)
    target.write_bytes(b"an older worker")  # replaced, never written through
    go_worker.place(built, target)
    assert target.stat().st_ino == built.stat().st_ino
    assert built.read_bytes() == b"\x7fELF worker" and target.stat().st_mode & 0o111
    assert not target.with_name(go_worker.BINARY + ".partial").exists()
    go_worker.place(built, target)  # again, over its own link
    assert target.stat().st_ino == built.stat().st_ino


def test_where_a_hard_link_cannot_be_made_the_env_gets_a_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = built_worker(tmp_path)
    target = tmp_path / "env" / go_worker.BINARY
    target.parent.mkdir()

    def cross_device(src: object, dst: object) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(go_worker.os, "link", cross_device)
    go_worker.place(built, target)
    assert target.read_bytes() == built.read_bytes()
    assert target.stat().st_ino != built.stat().st_ino and target.stat().st_mode & 0o111


def test_the_toolchain_is_asked_once_per_go_binary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    go = tmp_path / "bin" / "go"
    go.parent.mkdir()
    go.write_text("#!/bin/sh\necho go version go1.99.1 linux/amd64\n")
    go.chmod(0o755)
    calls: list[list[str]] = []
    real = go_worker._go

    def counted(args: list[str], cwd: Path, env: object) -> str:
        calls.append(args)
        return real(args, cwd, env)  # type: ignore[arg-type]

    monkeypatch.setattr(go_worker, "_go", counted)
    monkeypatch.setattr(go_worker, "_TOOLCHAINS", {})
    env = {"PATH": str(go.parent)}
    assert go_worker.toolchain(env) == go_worker.toolchain(env) == "go1.99.1 linux/amd64"
    assert calls == [["version"]]
    go.write_text("#!/bin/sh\necho go version go1.99.2 linux/amd64\n")  # replaced in place
    os.utime(go, ns=(0, go.stat().st_mtime_ns + 1_000_000))
    assert go_worker.toolchain(env) == "go1.99.2 linux/amd64" and len(calls) == 2
