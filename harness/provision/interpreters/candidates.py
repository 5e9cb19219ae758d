"""Finding an existing CPython 3.7-3.10 on the machine, and the self-check that judges one.

Candidates come from ``$WASM_COMPAT_PYTHON39``, then ``python3.9``/``python3.10``/``python3.8`` on
PATH, then pyenv's versions. Each is judged by running it: the self-check imports the modules a
wasmer env needs and reports the implementation, the version and the real executable behind a
shim or a link. Choosing among the results is pure.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

INTERPRETER_ENV = "WASM_COMPAT_PYTHON39"

SELF_CHECK_MODULES = (
    "ssl",
    "ctypes",
    "_decimal",
    "hashlib",
    "sqlite3",
    "lzma",
    "bz2",
    "zlib",
    "distutils.sysconfig",
)
# 3.9 first: it runs every wasmer 1.x release. 3.10 last: wasmer 1.0.0 has no cp310 wheel.
PREFERRED_MINORS = (9, 8, 7, 10)

Log = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class Probe:
    """What running a candidate's self-check found."""

    path: str
    executable: str = ""  # sys.executable, resolved: the real binary behind a shim or link
    version: tuple[int, ...] = ()
    implementation: str = ""
    problem: str = ""  # empty when the candidate is usable

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))


def judge(probe: Probe) -> Probe:
    """The probe, with a problem if the interpreter is not a CPython 3.7-3.10."""
    if probe.problem:
        return probe
    if probe.implementation != "cpython":
        return dataclasses.replace(probe, problem=f"{probe.implementation} is not CPython")
    if not (3, 7) <= probe.version[:2] <= (3, 10):
        return dataclasses.replace(probe, problem=f"{probe.version_text} is not 3.7-3.10")
    return probe


def select_candidate(paths: Iterable[str], check: Callable[[str], Probe], log: Log) -> Probe | None:
    """The best usable candidate: 3.9 over 3.8 over 3.7 over 3.10, then the order given.

    Running a candidate takes a few hundred ms, so the search stops at the first usable 3.9.
    """
    usable: list[Probe] = []
    for path in paths:
        probe = judge(check(path))
        if not probe.ok:
            log(f"skip {path}: {probe.problem}")
            continue
        real = "" if probe.executable == path else f" (really {probe.executable})"
        log(f"found {path}: CPython {probe.version_text}{real}")
        usable.append(probe)
        if probe.version[1] == PREFERRED_MINORS[0]:
            break
    return min(usable, key=lambda p: PREFERRED_MINORS.index(p.version[1]), default=None)


def candidate_paths(
    env: dict[str, str], which: Callable[[str], str | None], home: Path
) -> list[str]:
    """Where an existing interpreter may be, best guesses first (pyenv shims included: the
    self-check weeds out those that fail, and reveals the real binary behind those that work)."""
    on_path = [which(f"python3.{minor}") for minor in (9, 10, 8)]
    pyenv_roots = dict.fromkeys(
        p for p in (env.get("PYENV_ROOT"), str(home / ".pyenv"), "/root/.pyenv") if p
    )
    in_pyenv = [
        found
        for root in pyenv_roots
        for minor in PREFERRED_MINORS
        for found in sorted(glob.glob(f"{root}/versions/3.{minor}.*/bin/python3.{minor}"))
    ]
    return list(dict.fromkeys(p for p in [*on_path, *in_pyenv] if p))


SELF_CHECK_SCRIPT = """
import json, sys
problems = []
for name in {modules!r}:
    try:
        __import__(name)
    except Exception as error:
        problems.append("import %s failed (%s: %s)" % (name, type(error).__name__, error))
print(json.dumps({{
    "implementation": sys.implementation.name,
    "version": list(sys.version_info[:3]),
    "executable": sys.executable,
    "problems": problems,
}}))
"""


def probe(path: str) -> Probe:
    """Run the self-check in ``path``; never raises."""
    script = SELF_CHECK_SCRIPT.format(modules=SELF_CHECK_MODULES)
    try:
        proc = subprocess.run(
            [path, "-I", "-W", "ignore", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return Probe(path, problem=f"cannot run it ({error})")
    last_line = (proc.stdout.strip().splitlines() or [""])[-1]
    try:
        found = json.loads(last_line)
    except ValueError:
        return Probe(path, problem=f"exit {proc.returncode}: {_gist(proc.stderr)}")
    return Probe(
        path,
        executable=os.path.realpath(found["executable"]),
        version=tuple(found["version"]),
        implementation=found["implementation"],
        problem="; ".join(found["problems"]),
    )


def _gist(stderr: str) -> str:
    """The telling line of an error output: a traceback's last, otherwise the first."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()] or ["no output"]
    return lines[-1] if lines[0].startswith("Traceback") else lines[0]
