"""`wasm-compat init`: the starter files, written into an existing project and never over one."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest
import yaml

from harness.cli.main import main
from harness.errors import HarnessError
from harness.plan.matrix import expand_env_list, is_runtime_name, split_env_list
from harness.provision import starter
from harness.scenario.loader import load_scenario

WRITTEN = sorted(starter.FILES)


def files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_init_writes_a_tox_ini_an_example_its_fixture_and_a_workflow(tmp_path: Path) -> None:
    written = starter.init(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == WRITTEN
    assert files(tmp_path) == WRITTEN

    ini = configparser.ConfigParser()
    ini.read(tmp_path / "tox.ini")
    envs = expand_env_list(split_env_list(ini["tox"]["env_list"]))
    runtimes = [e for e in envs if is_runtime_name(e)]
    assert envs[-1] == "matrix" and len(runtimes) == len(envs) - 1
    assert {r.split("-")[0] for r in runtimes} == {"wasmtime", "wazero"}
    assert "requires" not in ini["tox"]  # a provisioned tox would lack the plugin

    scenario = load_scenario(tmp_path / "scenarios" / "compile_cache_restart.yaml")
    assert scenario.name == "compile_cache_restart"
    workflow = yaml.safe_load((tmp_path / ".github/workflows/wasm-compat.yml").read_text())
    assert set(workflow["jobs"]) == {"shard", "merge"}
    install = workflow["jobs"]["merge"]["steps"][2]["run"]
    assert install == "pip install wasm-compat==0.1.0"  # installed here from a folder, not a VCS


def test_the_example_validates_with_the_fixture_init_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    starter.init(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 0, capsys.readouterr()
    assert "1 scenario(s), 1 run(s) per runtime; 0 error(s)" in capsys.readouterr().out


@pytest.mark.parametrize("taken", WRITTEN)
def test_an_existing_file_is_named_and_nothing_is_written(tmp_path: Path, taken: str) -> None:
    (tmp_path / taken).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / taken).write_text("mine\n")
    with pytest.raises(HarnessError, match=f"^{tmp_path / taken} exists: init writes nothing"):
        starter.init(tmp_path)
    assert files(tmp_path) == [taken]
    assert (tmp_path / taken).read_text() == "mine\n"


def test_a_file_where_a_folder_goes_is_refused(tmp_path: Path) -> None:
    (tmp_path / "scenarios").write_text("not a folder\n")
    with pytest.raises(HarnessError, match="scenarios is not a directory"):
        starter.init(tmp_path)
    assert files(tmp_path) == ["scenarios"]


def test_the_command_refuses_with_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tox.ini").write_text("[tox]\n")
    assert main(["init", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    why = "init writes nothing over a file (move it aside, or use --dir)"
    assert err == f"wasm-compat: {tmp_path / 'tox.ini'} exists: {why}\n"
    assert files(tmp_path) == ["tox.ini"]

    assert main(["init", "--dir", str(tmp_path / "absent")]) == 2
    assert "no such directory" in capsys.readouterr().err


def test_the_command_writes_into_the_current_directory_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if line.startswith("wrote ")] == [
        f"wrote {name}" for name in starter.FILES
    ]
    assert files(tmp_path) == WRITTEN
