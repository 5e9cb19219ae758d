"""The runtimes pinned in tox.ini, and the state of their tox envs.

tox.ini's `env_list` names the runtimes (see `harness.plan.matrix`); each is provisioned by tox as
`WORK_DIR/NAME` (`.tox/NAME`, or `$TOX_WORK_DIR/NAME` inside a tox run). A runtime whose env
does not exist, or whose interpreter cannot be had, is `not provisioned` with the reason; one
whose env exists but cannot import or use the runtime is `unavailable` with the reason.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path

from harness.errors import RuntimeSelectionError
from harness.plan.matrix import (
    RuntimeSpec,
    expand_env_list,
    is_runtime_name,
    parse_runtime_name,
    split_env_list,
)
from harness.provision.interpreters import default_prefix, stable_path

TOX_INI = "tox.ini"
PYTHON39_ENV = "WASM_COMPAT_PYTHON39"


@dataclass(frozen=True)
class ToxProject:
    ini: Path
    work_dir: Path
    specs: tuple[RuntimeSpec, ...]

    def env_dir(self, spec: RuntimeSpec) -> Path:
        return self.work_dir / spec.name

    def env_python(self, spec: RuntimeSpec) -> Path:
        return self.env_dir(spec) / "bin" / "python"


def find_tox_ini(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / TOX_INI
        if candidate.is_file():
            return candidate
    return None


def load_project(ini: Path | None = None) -> ToxProject:
    path = ini or find_tox_ini()
    if path is None or not path.is_file():
        raise RuntimeSelectionError(
            f"{ini or TOX_INI}: not found (runtimes are pinned in tox.ini's env_list)"
        )
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise RuntimeSelectionError(f"{path}: {exc}") from None
    section = parser["tox"] if parser.has_section("tox") else {}
    raw = section.get("env_list") or section.get("envlist") or ""
    text = path.read_text(encoding="utf-8")
    specs = []
    for name in expand_env_list(split_env_list(raw)):
        if not is_runtime_name(name):
            continue
        try:
            specs.append(parse_runtime_name(name))
        except ValueError as exc:
            raise RuntimeSelectionError(f"{path}:{_line_of(text, name)}: {exc}") from None
    return ToxProject(ini=path, work_dir=_work_dir(path, section), specs=tuple(specs))


def _line_of(text: str, name: str) -> int:
    """The tox.ini line that spelled a (possibly generated) name: the one holding its version."""
    family, _, rest = name.partition("-")
    version = rest.split("-")[0]
    for number, line in enumerate(text.splitlines(), 1):
        if version and version in line and (family in line or "{" in line or "," in line):
            return number
    return 1


def _work_dir(ini: Path, section: object) -> Path:
    inside_tox = os.environ.get("TOX_WORK_DIR")
    if inside_tox:
        return Path(inside_tox)
    configured = section.get("work_dir") if isinstance(section, configparser.SectionProxy) else None
    if configured and "{" not in configured:
        return (ini.parent / configured).resolve()
    return ini.parent / ".tox"


def python39_hint() -> str:
    command = "python -m harness.provision.interpreters install"
    return f"run `{command}` or set {PYTHON39_ENV}, then `tox`"


def python39_path() -> Path:
    """Where `python -m harness.provision.interpreters install` puts a CPython for wasmer."""
    return stable_path(default_prefix(dict(os.environ)))


def required_runtimes(ini: Path) -> tuple[str, ...] | None:
    """tox.ini's `[wasm-compat] require_runtimes` (patterns split on whitespace and commas), or
    None where it says nothing."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(ini, encoding="utf-8")
    except configparser.Error as exc:
        raise RuntimeSelectionError(f"{ini}: {exc}") from None
    if not parser.has_option("wasm-compat", "require_runtimes"):
        return None
    return tuple(parser.get("wasm-compat", "require_runtimes").replace(",", " ").split())
