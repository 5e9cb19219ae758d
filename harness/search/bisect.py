"""Bisect a change to the exact release: which release of a family first behaves differently.

The releases come from the package index (`pip index versions`, which lists only releases with a
wheel for the interpreter and skips yanked ones; read from its plain output, which every pip since
21.2 prints alike), in version order. Each release the search needs is provisioned on demand into
a reusable env cache with uv and run through the same isolated workers as a matrix run. The
search itself (`search`) is pure: it is given a probe that says whether the release at an index
behaves like the good one, or cannot be tested.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.analysis import diff
from harness.errors import HarnessError
from harness.model.variants import WASMER_ENGINE_SUCCESSOR
from harness.paths import cache_dir
from harness.plan.matrix import RuntimeSpec, parse_runtime_name, version_key

if TYPE_CHECKING:
    from harness.execution.pool import WorkerPool

SAME, DIFFERENT, UNTESTABLE = "same", "different", "untestable"


class BisectError(HarnessError):
    """The bisection cannot start or go on (bad range, no index, nothing differs)."""


# -- the pure part --------------------------------------------------------------------------------


def between(versions: Sequence[str], good: str, bad: str) -> list[str]:
    """good, every release strictly between good and bad, bad: in version order."""
    low, high = version_key(good), version_key(bad)
    if low >= high:
        raise BisectError(f"--good {good} must be an older release than --bad {bad}")
    inside = sorted({v for v in versions if low < version_key(v) < high}, key=version_key)
    return [good, *inside, bad]


@dataclass
class Search:
    """Where a bisection stands: `order[lo]` behaves like good, `order[hi]` does not."""

    order: list[str]
    lo: int
    hi: int
    skipped: dict[str, str] = field(default_factory=dict)  # release -> why it was not tested

    @property
    def done(self) -> bool:
        return self.hi - self.lo <= 1


def search(order: Sequence[str], probe: Callable[[str], tuple[str, str]]) -> Search:
    """Binary search for the first release unlike order[0], given that order[-1] is unlike it.

    `probe(release)` returns (SAME | DIFFERENT | UNTESTABLE, why). An untestable release is
    dropped from the order and the search goes on around it.
    """
    state = Search(list(order), 0, len(order) - 1)
    while not state.done:
        mid = (state.lo + state.hi) // 2
        release = state.order[mid]
        verdict, why = probe(release)
        if verdict == UNTESTABLE:
            state.skipped[release] = why
            del state.order[mid]
            state.hi -= 1
        elif verdict == SAME:
            state.lo = mid
        else:
            state.hi = mid
    return state


def criterion_key(run: dict[str, Any], criterion: str) -> tuple[Any, ...]:
    """What must match for a release to behave like the good one: the outcome class, or the
    class and the normalized message."""
    sig = diff.signature(run)
    if criterion == "message":
        return (sig["outcome"], sig.get("message"))
    return (sig["outcome"],)


# -- the edges: the package index and the env cache --------------------------------------------


def index_versions(package: str, python_version: str, python: str | None = None) -> list[str]:
    """Releases of a package with a wheel for this Python version, as the configured index has
    them (yanked releases and pre-releases left out), asked of the pip of `python` (default: this
    interpreter's), whichever version it is."""
    command = [
        python or sys.executable,
        "-m",
        "pip",
        "index",
        "versions",
        package,
        "--python-version",
        python_version,
        "--only-binary=:all:",
        "--disable-pip-version-check",
    ]
    proc = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        if "No module named pip" in last:
            last += " (bisect lists releases with `pip index versions`: install pip here)"
        raise BisectError(f"cannot list the releases of {package}: {last}")
    return parse_index_versions(package, proc.stdout)


AVAILABLE = "Available versions:"


def parse_index_versions(package: str, output: str) -> list[str]:
    """The releases in `pip index versions` output (`Available versions: 2.0, 1.0`). Its `--json`
    is newer than the pip a fresh venv may ship; this line has been there since `pip index`."""
    for line in output.splitlines():
        if line.strip().startswith(AVAILABLE):
            listed = line.strip()[len(AVAILABLE) :].split(",")
            versions = [v.strip() for v in listed if v.strip()]
            if versions:
                return versions
    tail = (output.strip().splitlines() or ["no output"])[-1]
    raise BisectError(f"cannot list the releases of {package}: pip index versions said {tail!r}")


def release_versions(spec: RuntimeSpec) -> list[str]:
    """The family's releases: from the package index for a Python package (those with a wheel
    for the interpreter its envs use), from the Go module proxy for a Go worker's runtime."""
    if spec.is_go:
        from harness.provision import go_worker

        try:
            return go_worker.release_versions()
        except (go_worker.GoMissing, go_worker.BuildFailed) as exc:
            raise BisectError(f"cannot list the releases of {spec.family}: {exc}") from None
    python_version = "3.9" if spec.needs_old_python else "{}.{}".format(*sys.version_info[:2])
    return index_versions(spec.family, python_version)


def env_cache_root() -> Path:
    return cache_dir() / "envs"


def uv_binary() -> str:
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin
    except ImportError:
        raise BisectError("bisect provisions releases with uv: pip install uv") from None
    return str(find_uv_bin())


def provision(env: Path, interpreter: str, requirements: Sequence[str]) -> str:
    """The python of a cached env holding these requirements, made with uv on first use (a
    half-made env is made again). Raises BisectError (one line) when they do not install."""
    python = env / "bin" / "python"
    done = env / ".wasm-compat-complete"
    if done.exists() and python.exists():
        return str(python)
    shutil.rmtree(env, ignore_errors=True)
    uv = uv_binary()
    for command in (
        [uv, "venv", "-q", "-p", interpreter, str(env)],
        [uv, "pip", "install", "-q", "--python", str(python), *requirements],
    ):
        proc = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)
        if proc.returncode != 0:
            shutil.rmtree(env, ignore_errors=True)
            lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()] or ["failed"]
            raise BisectError(f"{env.name} does not install: {lines[-1].strip()}")
    done.write_text("ok\n")
    return str(python)


def spec_for(family: str, version: str, variant: str = "") -> RuntimeSpec:
    """The runtime to test; a wasmer variant of either engine generation is mapped to the
    release's own name for that engine (1.0's jit is 1.1's universal, native is dylib)."""
    name = f"{family}-{version}" + (f"-{variant}" if variant else "")
    try:
        return parse_runtime_name(name)
    except ValueError as exc:
        engine, _, compiler = variant.partition("-")
        renames = {**WASMER_ENGINE_SUCCESSOR, **{v: k for k, v in WASMER_ENGINE_SUCCESSOR.items()}}
        if family == "wasmer" and engine in renames:
            try:
                return parse_runtime_name(f"{family}-{version}-{renames[engine]}-{compiler}")
            except ValueError:
                pass
        raise BisectError(str(exc)) from None


# -- the driver ---------------------------------------------------------------------------------


@dataclass
class Request:
    case: Any  # harness.scenario.model.Case
    builder: Any  # harness.scenario.fixtures.FixtureBuilder
    family: str
    good: str
    bad: str
    variant: str = ""
    criterion: str = "outcome"  # or "message"
    side: str = "consumer"  # an upgrade scenario: which side varies
    fixed: str | None = None  # an upgrade scenario: the release of the side that does not vary
    timeout: float = 60.0
    memory_mb: int = 2048


@dataclass
class Outcome:
    last_good: str
    first_bad: str
    good: dict[str, Any]  # the run on the last release that behaves like --good
    bad: dict[str, Any]  # the run on the first release that does not
    tested: list[str]
    skipped: dict[str, str]
    fixed: str | None = None  # an upgrade scenario: the release the other side stayed at


Report = Callable[[str], None]


def interpreter_for(spec: RuntimeSpec) -> str:
    if not spec.needs_old_python:
        return sys.executable
    from harness.provision.interpreters import default_prefix, stable_path

    python = stable_path(default_prefix(dict(os.environ)))
    if not python.exists():
        raise BisectError(
            f"{spec.family} needs CPython 3.9: "
            "run `python -m harness.provision.interpreters install`"
        )
    return str(python)


def bisect(
    request: Request,
    out: Path,
    report: Report,
    versions: Sequence[str],
    pool: WorkerPool | None = None,
) -> Outcome:
    """Find the first release between good and bad that behaves unlike good. `versions` are the
    family's releases on the index. The runs' workers come from `pool` (each probe has its own)."""
    order = between(versions, request.good, request.bad)
    runs: dict[str, dict[str, Any]] = {}
    fixed_release = request.fixed or (request.good if request.side == "consumer" else request.bad)
    fixed = _runtime(request, out, fixed_release) if request.case.scenario.upgrade else None

    def run(version: str) -> dict[str, Any]:
        if version not in runs:
            runs[version] = _run_on(request, out, pool, _runtime(request, out, version), fixed)
            report(f"  {version:>10}  {describe(runs[version])}")
        return runs[version]

    report(f"{len(order) - 2} release(s) between {request.good} and {request.bad}")
    wanted = criterion_key(run(request.good), request.criterion)
    if criterion_key(run(request.bad), request.criterion) == wanted:
        raise BisectError(
            f"{request.good} and {request.bad} behave the same by {request.criterion} "
            f"({describe(runs[request.good])}): nothing to bisect"
        )

    def probe(version: str) -> tuple[str, str]:
        try:
            key = criterion_key(run(version), request.criterion)
        except BisectError as exc:
            report(f"  {version:>10}  skipped: {exc}")
            return UNTESTABLE, str(exc)
        return (SAME if key == wanted else DIFFERENT), ""

    state = search(order, probe)
    last_good, first_bad = state.order[state.lo], state.order[state.hi]
    return Outcome(
        last_good,
        first_bad,
        runs[last_good],
        runs[first_bad],
        [v for v in order if v in runs],
        state.skipped,
        fixed_release if fixed is not None else None,
    )


def _runtime(request: Request, out: Path, version: str) -> Any:
    """One release of the family, provisioned into the env cache and probed; a release that
    does not install or cannot be used is a BisectError (the search skips it)."""
    from harness.execution.probe import probe as probe_runtime

    spec = spec_for(request.family, version, request.variant)
    if spec.is_go:
        found = _go_runtime(spec, out)
    else:
        python = provision(env_cache_root() / spec.name, interpreter_for(spec), spec.requirements)
        scratch = out / "probe" / spec.name
        found = probe_runtime(python, scratch, spec.name, spec.family, spec.variant)
    if found.unavailable:
        raise BisectError(f"{spec.name} is not usable: {found.unavailable}")
    return found


def _go_runtime(spec: RuntimeSpec, out: Path) -> Any:
    """A Go worker's release, built into the env cache (once per release and worker source)."""
    from harness.execution.probe import probe_command
    from harness.model.runtime import WorkerCommand
    from harness.provision import go_worker

    state = go_worker.install(spec.version, env_cache_root() / spec.name)
    if state.worker is None:
        raise BisectError(f"{spec.name}: {state.problem}")
    command = WorkerCommand((str(state.worker),), spec.family, spec.variant)
    return probe_command(command, out / "probe" / spec.name, spec.name)


def _run_on(
    request: Request, out: Path, pool: WorkerPool | None, candidate: Any, fixed: Any
) -> dict[str, Any]:
    """The case's run on `candidate`; in an upgrade scenario, `candidate` is the side that varies
    and `fixed` the other."""
    from harness.execution.run import run_case

    rest = (request.builder, out, request.timeout, request.memory_mb, pool)
    if fixed is None:
        return run_case(request.case, candidate, *rest)
    if request.side == "consumer":
        return run_case(request.case, fixed, *rest, consumer=candidate)
    return run_case(request.case, candidate, *rest, consumer=fixed)


def describe(run: dict[str, Any]) -> str:
    from harness.report.common import side

    return side(diff.summary_of(diff.signature(run)), 100)
