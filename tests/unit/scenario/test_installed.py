"""Issue 18, item 4: a module inside an installed package. `python:PATH` is found in the
harness interpreter's package folders; a module under the project's node_modules/ is a path.
Missing, either one is one line with file and line that says how this project installs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.scenario import installed
from harness.scenario.suite import load_suite

WASM = bytes.fromhex("0061736d01000000")  # the empty module
PYPROJECT = """\
[project]
name = "app"
[project.optional-dependencies]
test = ["pytest"]
corpus = ["fake-pkg-wasm==1.2.3", "other==1"]
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp/proj (a pyproject with a corpus extra, scenarios/), and tmp/site as the only
    package folder of this interpreter."""
    root = tmp_path / "proj"
    (root / "scenarios").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    site = tmp_path / "site"
    (site / "fake_pkg").mkdir(parents=True)
    (site / "fake_pkg" / "m.wasm").write_bytes(WASM)
    monkeypatch.setattr(installed, "package_folders", lambda: [site.resolve()])
    return root


def errors(root: Path, module: str) -> list[str]:
    path = root / "scenarios" / "s.yaml"
    path.write_text(f'steps:\n  - compile: "{module}"\n')
    return [str(e) for e in load_suite([path]).errors]


def test_a_module_in_an_installed_python_package_is_found(project: Path) -> None:
    assert errors(project, "python:fake_pkg/m.wasm") == []
    found = installed.python_module("python:fake_pkg/m.wasm", project)
    assert found.read_bytes() == WASM


def test_a_missing_python_module_names_the_extra_that_installs_it(project: Path) -> None:
    (error,) = errors(project, "python:fake_pkg/gone.wasm")
    assert error.startswith(f"{project / 'scenarios' / 's.yaml'}:2: step 1 (compile): ")
    assert "module 'python:fake_pkg/gone.wasm' is not installed for " in error
    assert "install it: pip install -e '.[corpus]' (its extra 'corpus' requires " in error
    assert "fake-pkg-wasm==1.2.3" in error and "\n" not in error
    (other,) = errors(project, "python:unknown/x.wasm")
    assert other.endswith("install it: pip install the Python package that ships it")


def test_a_python_module_stays_inside_its_package_folder(project: Path) -> None:
    (error,) = errors(project, "python:fake_pkg/../../proj/x.wasm")
    assert "is outside the package folder" in error


def test_a_python_module_must_be_a_wasm_binary(project: Path, tmp_path: Path) -> None:
    (tmp_path / "site" / "fake_pkg" / "text.wasm").write_text("not wasm")
    (error,) = errors(project, "python:fake_pkg/text.wasm")
    assert "is not a WebAssembly binary" in error


def test_a_missing_npm_module_says_npm_ci_with_its_prefix(project: Path) -> None:
    (project / "corpus").mkdir()
    (project / "corpus" / "package.json").write_text("{}")
    (error,) = errors(project, "../corpus/node_modules/pkg/m.wasm")
    assert ":2: step 1 (compile): module '../corpus/node_modules/pkg/m.wasm' not found" in error
    assert error.endswith("; install it: npm ci --prefix corpus")
    # without a package.json above node_modules/ nothing says how it was meant to be installed
    (plain,) = errors(project, "../elsewhere/node_modules/pkg/m.wasm")
    assert "install it" not in plain


def test_the_interpreters_package_folders_exist() -> None:
    folders = installed.package_folders()
    assert folders and all(f.is_dir() for f in folders)
    assert Path.cwd().resolve() not in folders


def test_the_package_a_module_came_from(tmp_path: Path) -> None:
    scoped = tmp_path / "corpus" / "node_modules" / "@a" / "b"
    scoped.mkdir(parents=True)
    (scoped / "package.json").write_text('{"name": "@a/b", "version": "0.1.0"}')
    folder = tmp_path / "scenarios"
    folder.mkdir()
    assert installed.package_of("../corpus/node_modules/@a/b/x.wasm", folder) == "npm @a/b 0.1.0"
    assert installed.package_of("../corpus/node_modules/c/x.wasm", folder) is None
    assert installed.package_of("../build/app.wasm", folder) is None
    assert installed.package_of("python:no_such_package_here/x.wasm", folder) is None
