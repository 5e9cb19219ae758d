"""Probing a runtime before it is used: which runtime an env holds, whether it can compile and
instantiate the smallest module that can trap, and why not (with the cause from its stderr, and
whether it depends on this host's CPU)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import cast

from harness.analysis.normalize import normalize
from harness.errors import RuntimeSelectionError
from harness.execution.pool import FORK, WorkerPool, pool_or_own
from harness.execution.segment import SegmentRun, run_segment
from harness.host import cpu_dependence, current_host
from harness.model.outcome import CRASH, describe
from harness.model.process import CAUSE_LINES, PANIC_NEW, PANIC_OLD, TAIL_LINES
from harness.model.runtime import Runtime, WorkerCommand
from harness.model.step import StepJson, StepResultJson
from harness.plan.matrix import RuntimeSpec, select
from harness.provision import go_worker
from harness.provision.toxenvs import ToxProject, python39_hint, python39_path
from harness.scenario.model import cases, parse_scenario


def probe(
    python: str,
    scratch: Path,
    name: str | None = None,
    family: str | None = None,
    variant: str = "",
    pool: WorkerPool | None = None,
) -> Runtime:
    """Ask a worker on this interpreter which runtime it has, without running any step, and
    whether it can compile a trivial module. Without a `pool` the call opens one of its own."""
    return probe_command(WorkerCommand.python(python, family, variant), scratch, name, pool)


def probe_command(
    worker: WorkerCommand, scratch: Path, name: str | None = None, pool: WorkerPool | None = None
) -> Runtime:
    """`probe` for any worker's command line (a Go worker's, say)."""
    with pool_or_own(pool) as own:
        return _probe(worker, scratch, name, own)


def _probe(worker: WorkerCommand, scratch: Path, name: str | None, pool: WorkerPool) -> Runtime:
    found = _probe_worker(worker, scratch, name, pool)
    found.worker = () if worker.forkable else worker.argv  # a Python worker's is implied
    return found


def _probe_worker(
    worker: WorkerCommand, scratch: Path, name: str | None, pool: WorkerPool
) -> Runtime:
    python, family, variant = worker.argv[0], worker.family, worker.variant
    scratch.mkdir(parents=True, exist_ok=True)
    label = name or Path(python).name
    try:
        seg = run_segment(worker, [], 0, scratch, {}, timeout=120, memory_mb=0, pool=pool)
    except OSError as exc:
        return Runtime(label, python, unavailable=f"cannot start {python}: {exc}")
    if seg.runtime is None:
        died = seg.results[-1] if seg.results else None  # the worker died before it was ready
        reason = seg.unavailable or seg.harness_error or f"worker exited {seg.returncode}"
        evidence: tuple[str | None, str | None] = (None, None)  # its signal and stderr tail
        if died is not None:
            evidence = (died.get("signal"), died.get("stderr_tail"))
            if not (seg.unavailable or seg.harness_error):
                reason = f"the worker died before it was ready: {_failure_text(died)}"
        reason, on_cpu = _on_this_cpu(reason, reason, *evidence)
        return Runtime(
            label, python, family=family, variant=variant, unavailable=reason, cpu_dependent=on_cpu
        )
    info = seg.runtime
    label = f"{info['family']}-{info['version']}" + (
        f"-{info['variant']}" if info["variant"] else ""
    )
    broken = _cannot_compile(worker, scratch, pool)
    if broken:
        reason, on_cpu = broken
        return Runtime(
            name or label,
            python,
            info["family"],
            info["version"],
            variant,
            unavailable=reason,
            cpu_dependent=on_cpu,
        )
    return Runtime(
        name=name or label,
        python=python,
        family=info["family"],
        version=info["version"],
        variant=info.get("variant") or "",
        adapter=info.get("adapter"),
        python_version=seg.python,
    )


# The smallest module that can trap: (func (export "f") unreachable). Some variants import
# fine but cannot compile even this (wasmer 1.1 dylib-cranelift: undefined symbol
# wasmer_vm_probestack; 1.0 native-llvm: wasmer_raise_trap), so every run would fail the same way.
_SMOKE_WASM = bytes.fromhex("0061736d0100000001040160000003020100070501016600000a05010300000b")


def _cannot_compile(
    worker: WorkerCommand, scratch: Path, pool: WorkerPool
) -> tuple[str, bool] | None:
    """Why this runtime cannot compile and instantiate a trivial module, if it cannot, and
    whether that depends on this host's CPU."""
    module = scratch / "smoke.wasm"
    module.write_bytes(_SMOKE_WASM)
    smoke = parse_scenario({"steps": [{"compile": "smoke"}, "instantiate"]}, {}, "probe", "probe")
    steps = [cast(StepJson, s.to_json()) for s in cases(smoke)[0].segments[0]]

    def attempt() -> SegmentRun:
        return run_segment(worker, steps, 0, scratch, {"smoke": str(module)}, 120, 0, pool=pool)

    try:
        seg = attempt()
        failed = next((r for r in seg.results if r.get("outcome") != "ok"), None)
        if failed and _cause_lost(failed) and seg.isolation == FORK:
            # A fork's crash report carries the warm worker's frames too; the stderr tail keeps
            # the lines that say why above them, but where none was found a fresh interpreter
            # is asked once more. The runtime is unusable either way, so its warm worker is not
            # needed any more.
            pool.forget(worker, "it cannot compile a trivial module")
            again = attempt()
            retried = next((r for r in again.results if r.get("outcome") != "ok"), None)
            if retried and not _cause_lost(retried):
                seg, failed = again, retried
    except OSError as exc:
        return f"cannot start {worker.argv[0]}: {exc}", False
    if failed is None and seg.completed:
        return None
    if failed is None:
        return "a trivial module's compile did not finish", False
    return _on_this_cpu(
        f"cannot compile a trivial module: {_failure_text(failed)}",
        failed.get("message"),
        failed.get("signal"),
        failed.get("stderr_tail"),
    )


def _failure_text(failed: StepResultJson) -> str:
    """A failed step as one line: its message (or the crash and the cause its stderr gives)."""
    panic = rust_panic(failed.get("stderr_tail"))
    if failed["outcome"] == CRASH:
        cause = crash_cause(failed.get("stderr_tail"))
        return f"{describe(failed)}: {cause}" if cause else describe(failed)
    lines = (failed.get("message") or failed["outcome"]).strip().splitlines()
    text = normalize(lines[0] if lines else failed["outcome"]) or failed["outcome"]
    if panic is not None and panic[1] and panic[0] in (failed.get("message") or ""):
        text += f" (panic in {panic[1]})"  # the crate the panic came from, with its version
    return text


def _cause_lost(failed: StepResultJson) -> bool:
    """A crash whose stderr tail says nothing of why, or is full (so it may start after the
    panic line) and names no panic."""
    tail = failed.get("stderr_tail") or ""
    if failed["outcome"] != CRASH or rust_panic(tail) is not None:
        return False
    return crash_cause(tail) is None or len(tail.splitlines()) >= TAIL_LINES


def _on_this_cpu(reason: str, *evidence: str | None) -> tuple[str, bool]:
    """The reason, saying so when the failure depends on this host's CPU."""
    why = cpu_dependence(*evidence)
    if why is None:
        return reason, False
    return f"{reason}; depends on this host's CPU ({current_host().cpu_summary}): {why}", True


# A panic's FILE under cargo's registry names the crate and version (the panic and cause lines
# themselves are `harness.model.process`'s, which keeps them in the stderr tail).
_CRATE = re.compile(r"/(?P<crate>[A-Za-z0-9_-]+?)-(?P<version>\d+\.\d+\.\d+[^/]*)/src/")


def rust_panic(stderr: str | None) -> tuple[str, str | None] | None:
    """A Rust panic's message in a stderr text, and `crate version` when cargo built it from a
    registry crate."""
    if not stderr:
        return None
    found = PANIC_OLD.search(stderr) or PANIC_NEW.search(stderr)
    if found is None:
        return None
    crate = _CRATE.search(found["file"])
    return found["message"].strip(), f"{crate['crate']} {crate['version']}" if crate else None


def crash_cause(stderr: str | None) -> str | None:
    """The line of a crashed process's stderr that says why it died, if one does."""
    panic = rust_panic(stderr)
    if panic is not None:
        message, crate = panic
        text = f"panicked at '{normalize(message)}'"
        return f"{text} ({crate})" if crate else text
    found = CAUSE_LINES.search(stderr or "")
    return normalize(found["line"] or found["go"]) if found else None


def pinned_runtime(
    project: ToxProject, pattern: str, scratch: Path, pool: WorkerPool | None = None
) -> Runtime:
    """The one runtime pinned in tox.ini that `pattern` names, probed."""
    try:
        specs = select(project.specs, [pattern])
    except ValueError as exc:
        raise RuntimeSelectionError(f"{project.ini}: {exc}") from None
    if len(specs) != 1:
        names = ", ".join(s.name for s in specs)
        raise RuntimeSelectionError(f"{project.ini}: {pattern!r} names {len(specs)}: {names}")
    return runtime_state(project, specs[0], scratch, pool)


def runtime_state(
    project: ToxProject, spec: RuntimeSpec, scratch: Path, pool: WorkerPool | None = None
) -> Runtime:
    """Probe a runtime's env: which interpreter, which version actually installed, usable or not."""
    if spec.is_go:
        return _go_runtime_state(project, spec, scratch, pool)
    python = project.env_python(spec)
    base = Runtime(
        name=spec.name,
        python=str(python),
        family=spec.family,
        version=spec.version,
        variant=spec.variant,
    )
    if not python.exists():
        why = f"no tox env yet (run `tox -e {spec.name}`)"
        if spec.needs_old_python and not python39_path().exists():
            why = f"no CPython 3.7-3.10 at {python39_path()} for wasmer 1.x ({python39_hint()})"
        base.unavailable = why
        base.provisioned = False
        return base
    found = probe(str(python), scratch, spec.name, spec.family, spec.variant, pool)
    if found.unavailable and "is not installed" in found.unavailable:
        found.unavailable += (
            f" (installing {' '.join(spec.requirements)} failed? `tox -e {spec.name}`)"
        )
    return _pinned(found, spec)


def _pinned(found: Runtime, spec: RuntimeSpec) -> Runtime:
    """The probed runtime, held to the release tox.ini pins."""
    found.family, found.variant = spec.family, spec.variant
    if found.unavailable is None and found.version != spec.version:
        found.unavailable = (
            f"tox env has {spec.family} {found.version}, tox.ini pins {spec.version} "
            f"(recreate it: `tox -r -e {spec.name}`)"
        )
    found.pinned = spec.version
    return found


def _go_runtime_state(
    project: ToxProject, spec: RuntimeSpec, scratch: Path, pool: WorkerPool | None
) -> Runtime:
    """A Go worker's runtime: the worker its env holds (built against the pinned release and
    reporting the version it links), or why there is none."""
    env = project.env_dir(spec)
    state = go_worker.env_state(env) if env.is_dir() else None
    if state is None or state.worker is None:
        why = state.problem if state else f"no tox env yet (run `tox -e {spec.name}`)"
        return Runtime(
            name=spec.name,
            python="",
            family=spec.family,
            version=spec.version,
            variant=spec.variant,
            unavailable=why,
            provisioned=state.provisioned if state else False,
            pinned=spec.version,
        )
    command = WorkerCommand((str(state.worker),), spec.family, spec.variant)
    return _pinned(probe_command(command, scratch, spec.name, pool), spec)
