"""Issue 18, modules: a fixture is a .wat or a .wasm, named in wasm_fixtures/ or given by a path
relative to the scenario file that stays inside its project; a .wasm reaches the worker as it
is, under a name the protocol accepts. Every mistake is one line with file and line."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest

from harness.cli.main import main
from harness.errors import HarnessError, ScenarioError
from harness.scenario import scaffold
from harness.scenario.checks import schema
from harness.scenario.fixtures import FixtureBuilder, project_root
from harness.scenario.loader import load_scenario
from harness.scenario.model import cases
from harness.scenario.suite import load_suite

ADD_WAT = (
    '(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))'
)
# add(i32, i32) as no encoder writes it: its type section's size is a five-byte LEB128 and a
# custom section follows the code (printed and parsed again by wasm-tools, it is 4 bytes shorter)
ADD_WASM = bytes.fromhex(
    "0061736d01000000"  # magic, version 1
    "0187808080000160027f7f017f"  # type section, size 7 in five bytes: (i32, i32) -> i32
    "03020100"  # function section
    "070701036164640000"  # export "add"
    "0a09010700200020016a0b"  # code: local.get 0, local.get 1, i32.add
    "000706" + b"marker".hex()  # custom section "marker"
)


def project(tmp_path: Path, fixtures: dict[str, bytes | str] | None = None) -> Path:
    """tmp/proj: scenarios/, wasm_fixtures/ (with these files), app/plugin.wasm, app/plugin.wat."""
    root = tmp_path / "proj"
    for folder in ("scenarios", "wasm_fixtures", "app"):
        (root / folder).mkdir(parents=True)
    (root / "app" / "plugin.wasm").write_bytes(ADD_WASM)
    (root / "app" / "plugin.wat").write_text(ADD_WAT)
    for name, content in (fixtures or {}).items():
        target = root / "wasm_fixtures" / name
        target.write_bytes(content) if isinstance(content, bytes) else target.write_text(content)
    return root


def scenario(root: Path, text: str, name: str = "s.yaml") -> Path:
    path = root / "scenarios" / name
    path.write_text(text)
    return path


def one_error(path: Path) -> str:
    suite = load_suite([path], build=True)
    assert len(suite.errors) == 1, suite.errors
    error = str(suite.errors[0])
    assert "\n" not in error
    return error


def test_a_wasm_fixture_is_handed_to_the_worker_as_it_is(tmp_path: Path) -> None:
    root = project(tmp_path, {"bin.wasm": ADD_WASM, "text.wat": ADD_WAT})
    path = scenario(root, "steps:\n  - compile: bin\n  - compile: {fixture: text, as: t}\n")
    suite = load_suite([path], build=True)
    assert suite.errors == []
    (case,) = suite.cases()
    handed = suite.builders[case.scenario.path].for_case(case)
    assert handed["bin"] == str((root / "wasm_fixtures" / "bin.wasm").resolve())
    assert Path(handed["bin"]).read_bytes() == ADD_WASM  # not re-encoded
    assert Path(handed["text"]).read_bytes()[:4] == b"\0asm"  # a .wat is built
    assert handed["text"] != str(root / "wasm_fixtures" / "text.wat")


def test_a_fixture_as_both_wat_and_wasm_is_refused_naming_both(tmp_path: Path) -> None:
    root = project(tmp_path, {"add.wasm": ADD_WASM, "add.wat": ADD_WAT})
    error = one_error(scenario(root, "steps:\n  - restart\n  - compile: add\n"))
    assert re.search(
        r"s\.yaml:3: step 2 \(compile\): fixture 'add': both add\.wat and add\.wasm", error
    )


def test_a_wasm_fixture_that_is_not_wasm_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, {"text.wasm": "(module)"})
    error = one_error(scenario(root, "steps:\n  - compile: text\n"))
    assert ":2: step 1 (compile): fixture 'text':" in error
    assert "is not a WebAssembly binary (it starts with b'(mod'" in error


def test_a_module_given_by_path_gets_a_protocol_name_and_its_own_file(tmp_path: Path) -> None:
    root = project(tmp_path)
    path = scenario(
        root,
        "steps:\n  - compile: ../app/plugin.wasm\n"
        "  - compile: {fixture: ../app/plugin.wat, as: w}\n"
        "  - deserialize: {wasm: ./../app/../app/plugin.wasm, as: d, expect: any}\n",
    )
    suite = load_suite([path], build=True)
    assert suite.errors == []
    (case,) = suite.cases()
    wasm, wat, same = (step.args.get("fixture") or step.args["wasm"] for step in case.segments[0])
    assert wasm == same  # one file, spelled two ways: one name
    assert re.fullmatch(r"plugin_[0-9a-f]{10}", wasm) and re.fullmatch(r"plugin_[0-9a-f]{10}", wat)
    assert wasm != wat
    assert dict(case.sources) == {wasm: "../app/plugin.wasm", wat: "../app/plugin.wat"}
    handed = suite.builders[case.scenario.path].for_case(case)
    assert handed[wasm] == str(root / "app" / "plugin.wasm")
    assert Path(handed[wat]).read_bytes()[:4] == b"\0asm"
    assert main(["validate", str(path)]) == 0


def test_a_module_path_may_come_from_a_parameter(tmp_path: Path) -> None:
    root = project(tmp_path)
    text = "params: [{m: ../app/plugin.wasm}, {m: ../app/plugin.wat}]\nsteps:\n  - compile: ${m}\n"
    first, second = load_suite([scenario(root, text)], build=True).cases()
    assert [dict(c.sources) for c in (first, second)] == [
        {first.segments[0][0].args["fixture"]: "../app/plugin.wasm"},
        {second.segments[0][0].args["fixture"]: "../app/plugin.wat"},
    ]


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("compile: ../../outside.wasm", "module '../../outside.wasm' is outside the project"),
        ("compile: /etc/x.wasm", "a module path is relative to the scenario file"),
        ("compile: ../app/missing.wasm", "module '../app/missing.wasm' not found"),
        ("compile: ../app/notes.wasm", "is not a WebAssembly binary"),
        ("compile: ../app/broken.wat", "broken.wat:1:10: expected valid module field"),
        ("compile: ../app/dir.wasm", "dir.wasm is a directory, not a regular file"),
        ("compile: ../app/out.wasm", "module '../app/out.wasm' is outside the project"),
        ("deserialize: {wasm: ../app/notes}", "must be a fixture name (a-z, 0-9, _) or a path"),
    ],
)
def test_a_bad_module_path_is_one_line_with_file_and_line(
    tmp_path: Path, step: str, message: str
) -> None:
    root = project(tmp_path)
    (tmp_path / "outside.wasm").write_bytes(ADD_WASM)
    (root / "app" / "out.wasm").symlink_to(tmp_path / "outside.wasm")
    (root / "app" / "notes.wasm").write_text("notes")
    (root / "app" / "broken.wat").write_text("(module (fun))")
    (root / "app" / "dir.wasm").mkdir()
    path = scenario(root, f"steps:\n  - restart\n  - {step}\n")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    error = one_error(path)
    assert re.search(r"s\.yaml:3: step 2 \((compile|deserialize)\): ", error), error
    assert message in error, error
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing made


def test_the_project_is_the_nearest_folder_with_tox_ini_scenarios_or_fixtures(
    tmp_path: Path,
) -> None:
    deep = tmp_path / "repo" / "tests" / "wasm" / "checks"
    deep.mkdir(parents=True)
    assert project_root(deep) == deep  # nothing marks a project: the scenario's own folder
    (tmp_path / "repo" / "tox.ini").write_text("[tox]\n")
    assert project_root(deep) == tmp_path / "repo"
    (tmp_path / "repo" / "tests" / "wasm" / "scenarios").mkdir()
    assert project_root(deep) == tmp_path / "repo" / "tests" / "wasm"


def test_a_scenario_of_path_modules_needs_no_fixture_folder(tmp_path: Path) -> None:
    (tmp_path / "tox.ini").write_text("[tox]\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "app.wasm").write_bytes(ADD_WASM)
    (tmp_path / "checks").mkdir()
    path = tmp_path / "checks" / "app.yaml"
    path.write_text("steps:\n  - compile: ../build/app.wasm\n")
    assert load_suite([path], build=True).errors == []
    path.write_text("steps:\n  - compile: ../build/app.wasm\n  - compile: add\n")
    (error,) = load_suite([path]).errors
    assert "no wasm_fixtures/ directory found above it" in str(error)


def test_a_fixture_name_that_a_path_also_gets_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path)
    path = scenario(root, "steps:\n  - compile: ../app/plugin.wasm\n")
    (case,) = cases(load_scenario(path))
    name = case.segments[0][0].args["fixture"]
    path.write_text(f"steps:\n  - compile: ../app/plugin.wasm\n  - compile: {name}\n")
    with pytest.raises(ScenarioError, match=rf":3: step 2 \(compile\): fixture '{name}' is also"):
        load_scenario(path)


def test_the_schema_takes_both_spellings_and_a_builder_needs_a_file_to_start_from(
    tmp_path: Path,
) -> None:
    validator = jsonschema.Draft202012Validator(schema())
    for step in ("add", "../app/plugin.wasm", "plugin.wat", "${m}", "build/${name}.wasm"):
        doc = {"steps": [{"compile": step}, {"deserialize": {"wasm": step}}]}
        assert list(validator.iter_errors(doc)) == [], step
    for step in ("../secret", "add.exe", "Add"):
        assert list(validator.iter_errors({"steps": [{"compile": step}]})), step
    from harness.scenario.model import parse_scenario

    loose = parse_scenario({"steps": [{"compile": "x.wasm"}]}, {}, "x", "x")
    with pytest.raises(HarnessError, match="a path needs a scenario file to start from"):
        FixtureBuilder(tmp_path).for_case(cases(loose)[0])


def test_new_writes_a_scenario_over_the_applications_own_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path)
    monkeypatch.chdir(root)
    path = scaffold.new_scenario("plugin", Path("scenarios"), "app/plugin.wasm")
    text = path.read_text()
    assert '  - compile: "../app/plugin.wasm"  # your module' in text
    assert "serialize: {to: plugin.cwasm}" in text
    assert load_suite([path], build=True).errors == []
    (tmp_path / "elsewhere.wasm").write_bytes(ADD_WASM)
    with pytest.raises(HarnessError, match="is outside the project"):
        scaffold.new_scenario("other", Path("scenarios"), str(tmp_path / "elsewhere.wasm"))
    assert not (root / "scenarios" / "other.yaml").exists()
