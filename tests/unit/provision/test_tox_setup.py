"""What the tox plugin does as tox sets an env up (`tox_on_install`), `--notest` too: a wazero
env gets its worker, a Python env its exact pins from uv's cache first, python39 the CPython."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tox.tox_env.errors import Fail

from harness import tox_plugin
from harness.errors import ProvisionError
from harness.provision import go_worker, interpreters

UV = "/opt/uv"


class Deps:
    """The `unroll()` of tox's PythonDeps: (options, requirement lines)."""

    def __init__(self, *lines: str, options: tuple[str, ...] = ()) -> None:
        self.lines, self.options = list(lines), list(options)

    def unroll(self) -> tuple[list[str], list[str]]:
        return self.options, self.lines


@dataclass
class Installer:
    constraints: Deps = field(default_factory=Deps)
    command: tuple[str, ...] = (UV, "pip", "install", "{packages}")

    def build_install_cmd(self, args: list[str]) -> list[str]:
        at = self.command.index("{packages}")
        return [*self.command[:at], *args, *self.command[at + 1 :]]


@dataclass
class Env:
    name: str
    env_dir: Path = Path("/work/.tox/env")
    uv: str | None = UV  # None: tox's virtualenv runner, which has no uv
    installer: Installer = field(default_factory=Installer)
    environment_variables: dict[str, str] = field(default_factory=lambda: {"PATH": "/bin"})
    ran: list[list[str]] = field(default_factory=list)

    def execute(self, cmd: list[str], **kwargs: Any) -> None:
        self.ran.append(cmd)


def on_install(env: Env, deps: object, of_type: str = "deps") -> None:
    tox_plugin.tox_on_install(env, deps, "PythonRun", of_type)  # type: ignore[arg-type]


def test_a_python_env_s_exact_pins_are_installed_from_uv_s_cache_first() -> None:
    env = Env("wasmer-1.1.0-universal-cranelift")
    on_install(env, Deps("wasmer==1.1.0", "wasmer-compiler-cranelift==1.1.0"))
    offline = [UV, "pip", "install", "--offline", "--no-deps"]
    assert env.ran == [[*offline, "wasmer==1.1.0", "wasmer-compiler-cranelift==1.1.0"]]


@pytest.mark.parametrize(
    "deps",
    [
        Deps("wasmtime>=50"),  # the index decides which release: it must be asked
        Deps("wasmtime==50.*"),
        Deps("wasmtime==50.0.1", "cffi"),
        Deps("wasmtime @ https://example.invalid/wasmtime.whl"),
        Deps("wasmtime==50.0.1", options=("--index-url", "https://example.invalid/simple")),
        Deps(),
    ],
)
def test_anything_but_exact_pins_is_left_to_tox_s_install(deps: Deps) -> None:
    env = Env("wasmtime-50.0.1")
    on_install(env, deps)
    assert env.ran == []


def test_constraints_a_project_install_command_or_another_installer_are_left_alone() -> None:
    pins = Deps("wasmtime==50.0.1")
    constrained = Env("wasmtime-50.0.1", installer=Installer(constraints=Deps("cffi<2")))
    own = Env("wasmtime-50.0.1", installer=Installer(command=("pip", "install", "{packages}")))
    for env in (constrained, own):
        on_install(env, pins)
        assert env.ran == []
    not_uv = Env("wasmtime-50.0.1", uv=None)
    on_install(not_uv, pins)
    assert not_uv.ran == []


def test_only_a_runtime_env_s_deps_are_touched() -> None:
    for env, of_type in ((Env("app"), "deps"), (Env("wasmtime-50.0.1"), "package")):
        on_install(env, Deps("wasmtime==50.0.1"), of_type)
        assert env.ran == []


def test_a_wazero_env_gets_its_worker_at_setup_in_tox_s_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[str, Path, dict[str, str]]] = []

    def install(version: str, into: Path, env: dict[str, str]) -> go_worker.EnvState:
        calls.append((version, into, env))
        return go_worker.EnvState(into / "bin" / go_worker.BINARY)

    monkeypatch.setattr(go_worker, "install", install)
    env = Env("wazero-1.8.2-compiler", env_dir=tmp_path, environment_variables={"GOFLAGS": "-x"})
    on_install(env, Deps())
    assert calls == [("1.8.2", tmp_path, {"GOFLAGS": "-x"})] and env.ran == []


def test_a_wazero_env_whose_cache_cannot_be_written_is_left_unprovisioned(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def install(version: str, into: Path, env: dict[str, str]) -> go_worker.EnvState:
        raise PermissionError(13, "Permission denied", "/cache/wazero")

    monkeypatch.setattr(go_worker, "install", install)
    on_install(Env("wazero-1.8.2-interpreter", env_dir=tmp_path), Deps())
    assert "wazero 1.8.2: [Errno 13] Permission denied" in caplog.text
    assert go_worker.env_state(tmp_path).provisioned is False


def test_python39_is_provided_at_setup_where_the_wasmer_envs_look_for_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[Path, dict[str, str], bool]] = []

    def install(prefix: Path, env: dict[str, str], *, from_debian: bool, **_: Any) -> Any:
        calls.append((prefix, env, from_debian))
        python = prefix / "bin" / "python3.9"
        found = interpreters.Probe(str(python), "/usr/bin/python3.9", (3, 9, 2), "CPython")
        return interpreters.Installed(python, "existing:/usr/bin/python3.9"), found

    monkeypatch.setattr(interpreters, "install", install)
    env = {"WASM_COMPAT_PYTHON39_PREFIX": str(tmp_path / "py39")}
    on_install(Env("python39", environment_variables=env), Deps())
    assert calls == [(tmp_path / "py39", env, False)]


def test_python39_that_cannot_be_had_fails_its_env(monkeypatch: pytest.MonkeyPatch) -> None:
    def install(prefix: Path, env: dict[str, str], **_: Any) -> Any:
        raise ProvisionError("no CPython 3.7-3.10 here and no Debian mirror")

    monkeypatch.setattr(interpreters, "install", install)
    with pytest.raises(Fail, match=r"^python3\.9: no CPython 3\.7-3\.10 here"):
        on_install(Env("python39"), Deps())
