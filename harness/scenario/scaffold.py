"""`wasm-compat new` and `wasm-compat schema`: commented scenario skeletons that validate (from a
template, another scenario, or the application's own .wasm or .wat), and the JSON Schema editors
use."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import harness
from harness.errors import FixtureError, HarnessError
from harness.scenario.checks import schema
from harness.scenario.fixtures import module_file
from harness.scenario.loader import load_scenario
from harness.scenario.steps import MODULE_SUFFIXES

_HEAD = """\
# yaml-language-server: $schema={schema}
# {name}: what this scenario protects against, and the public issue it comes from.
# Run it: wasm-compat run {path} --runtime all     (or: pytest {path})
description: >
  TODO: say what breaks when this fails, and cite the issue (owner/repo#N) if there is one.
tags: [{tags}]
"""

TEMPLATES: dict[str, tuple[str, str]] = {
    "basic": (
        "lifecycle",
        """\
steps:
  - compile: add                         # wasm_fixtures/add.wat (or add.wasm), or a path
  - instantiate                          # imports: none | host | wasi
  - call: {export: add, args: [1, 2], results: [3]}
  - close                                # closes what this segment made
""",
    ),
    "serialize": (
        "serialize, imports",
        """\
steps:
  - compile: imports
  - serialize: {to: imports.cwasm}       # a file in the run's work dir
  - restart                              # a new process: only the work dir survives
  - deserialize: {from: imports.cwasm}
  - instantiate: {imports: host}         # the harness's host functions (module "host")
  - call: {export: call_identity_i32, args: [-7], results: [-7]}
  - call: {export: call_trap, expect: trap}
  - close
""",
    ),
    "upgrade": (
        "upgrade, serialize",
        """\
upgrade: true                            # producer A before the restart, consumer B after
steps:
  - compile: add
  - serialize: {to: add.cwasm}
  - restart
  - deserialize: {from: add.cwasm, expect: any}   # refusing is allowed; the diff judges
  - instantiate
  - call: {export: add, args: [1, 2], results: [3]}
  - close
""",
    ),
    "cache": (
        "cache, lifecycle",
        """\
engine: {cache: {directory: cache}}      # the runtime's compilation cache, in the work dir
steps:
  - compile: {fixture: many_funcs, cache: miss}
  - restart
  - compile: {fixture: many_funcs, cache: hit}
  - instantiate
  - call: {export: sum, results: [6753178]}
  - close
""",
    ),
}


def print_schema() -> str:
    return json.dumps(schema(), indent=1, ensure_ascii=False) + "\n"


def new_scenario(name: str, folder: Path, template: str = "basic") -> Path:
    """Write `folder/NAME.yaml` from a template (or from an existing scenario file) and check
    that it loads."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise HarnessError(f"a scenario name is a-z, 0-9 and _, found {name!r}")
    path = folder / f"{name}.yaml"
    if path.exists():
        raise HarnessError(f"{path} exists; pick another name")
    schema_ref = schema_reference(folder)
    if template in TEMPLATES:
        tags, body = TEMPLATES[template]
        text = _HEAD.format(schema=schema_ref, name=name, path=path, tags=tags) + body
    elif template.endswith(MODULE_SUFFIXES):
        body = _module_body(Path(template), folder)
        text = _HEAD.format(schema=schema_ref, name=name, path=path, tags="serialize") + body
    else:
        source = Path(template)
        if not source.is_file():
            names = ", ".join(TEMPLATES)
            raise HarnessError(
                f"--from takes a template ({names}), a scenario file or a module (.wasm, .wat): "
                f"{template}"
            )
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [ln for ln in lines if not ln.startswith("# yaml-language-server")]
        header = f"# yaml-language-server: $schema={schema_ref}\n# {name}: made from {source}\n"
        text = header + "".join(kept)
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    try:
        load_scenario(path)
    except HarnessError:
        path.unlink()
        raise
    return path


_MODULE = """\
steps:
  - compile: {module}  # your module, relative to this file: {kind}
  - serialize: {{to: {stem}.cwasm}}  # the artifact your application keeps
  - restart  # a new process: only the work dir survives
  - deserialize: {{from: {stem}.cwasm}}
  - close
"""


def _module_body(module: Path, folder: Path) -> str:
    """Steps over the application's own module, named by its path from the scenario's folder;
    the module must be there and inside the project, as validate will check."""
    spelling = Path(os.path.relpath(module.resolve(), folder.resolve())).as_posix()
    try:
        module_file(folder, spelling)
    except FixtureError as exc:
        raise HarnessError(str(exc)) from None
    stem = re.sub(r"[^a-z0-9_]+", "_", module.stem.lower()).strip("_") or "module"
    quoted = json.dumps(spelling)  # a JSON string is a YAML string, whatever the path holds
    kind = "a .wasm is used byte for byte" if module.suffix == ".wasm" else "a .wat is built"
    return _MODULE.format(module=quoted, kind=kind, stem=stem)


def schema_reference(folder: Path) -> str:
    """The shipped schema's path relative to a scenario folder, for the YAML language server."""
    target = Path(harness.__file__).resolve().parent / "schema" / "scenario.schema.json"
    return os.path.relpath(target, folder.resolve())
