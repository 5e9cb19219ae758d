"""`wasm-compat init`: what puts wasm-compat into an existing project, from `templates/`.

    tox.ini                              pinned runtimes (a few wasmtime and wazero releases)
                                         and the `matrix` env; the tox plugin does the rest
    scenarios/compile_cache_restart.yaml one example scenario
    wasm_fixtures/add.wat                the fixture it compiles
    .github/workflows/wasm-compat.yml    CI: one shard per runtime family, then a merge that gates

It never overwrites: when any of these exists (or a folder on its way is a file) it writes
nothing and says which, so a project's own tox.ini or workflow is never touched.
"""

from __future__ import annotations

import json
import shlex
from importlib import metadata
from pathlib import Path

import harness
from harness.errors import HarnessError

TEMPLATES = Path(__file__).resolve().parent / "templates"
# where each file goes in the project -> its template
FILES: dict[str, str] = {
    "tox.ini": "tox.ini",
    "scenarios/compile_cache_restart.yaml": "compile_cache_restart.yaml",
    "wasm_fixtures/add.wat": "add.wat",
    ".github/workflows/wasm-compat.yml": "wasm-compat.yml",
}
REQUIREMENT = "__REQUIREMENT__"  # in the workflow: how CI installs wasm-compat


def init(project: Path) -> list[Path]:
    """Write the starter files into `project` (an existing directory); the paths written."""
    if not project.is_dir():
        raise HarnessError(f"{project}: no such directory (init writes into an existing project)")
    texts = {project / target: render(template) for target, template in FILES.items()}
    for path in texts:
        _check_free(project, path)
    for path, text in texts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as out:  # "x": never over a file made meanwhile
            out.write(text)
    return list(texts)


def render(template: str) -> str:
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    return text.replace(REQUIREMENT, shlex.quote(requirement()))


def requirement() -> str:
    """What `pip install` takes to get this wasm-compat in CI: the VCS URL and commit it was
    installed from, else its version."""
    try:
        direct = metadata.distribution("wasm-compat").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        direct = None
    origin = json.loads(direct) if direct else {}
    vcs = origin.get("vcs_info")
    if vcs:
        return f"wasm-compat @ {vcs['vcs']}+{origin['url']}@{vcs['commit_id']}"
    return f"wasm-compat=={harness.__version__}"


def _check_free(project: Path, path: Path) -> None:
    if path.exists() or path.is_symlink():
        raise HarnessError(
            f"{path} exists: init writes nothing over a file (move it aside, or use --dir)"
        )
    for folder in path.relative_to(project).parents:
        where = project / folder
        if where.exists() and not where.is_dir():
            raise HarnessError(f"{where} is not a directory: init would write {path} in it")
