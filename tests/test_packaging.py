"""What the harness imports is what the package declares: a `tox -e matrix` env has only the
declared dependencies, so an undeclared import breaks it there and nowhere else."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
# import name -> distribution name, where they differ
DISTRIBUTIONS = {"yaml": "pyyaml", "jinja2": "jinja2"}
# modules that run elsewhere: in a runtime's env (worker, adapters), inside pytest or tox (plugins)
ELSEWHERE = (
    "harness/worker/",
    "harness/worker/adapters/",
    "harness/pytest_plugin.py",
    "harness/tox_plugin.py",
)
RUNTIMES = {"wasmtime", "wasmer", "wasmer_compiler_cranelift", "wasmer_compiler_singlepass"}


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = set()
    for requirement in project["dependencies"]:
        name = requirement.split(";")[0]
        for stop in "<>=!~[ ":
            name = name.split(stop)[0]
        names.add(name.strip().lower().replace("_", "-"))
    return names


def imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_every_third_party_import_of_the_harness_is_a_declared_dependency() -> None:
    deps = declared()
    missing = {}
    for path in sorted((ROOT / "harness").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(ELSEWHERE):
            continue
        for name in imported(path) - set(sys.stdlib_module_names) - {"harness"} - RUNTIMES:
            if DISTRIBUTIONS.get(name, name).replace("_", "-") not in deps:
                missing.setdefault(relative, []).append(name)
    assert missing == {}
