"""Run cases on a runtime: segment after segment in fresh processes, sharing one work dir."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import forkserver
from harness.execute import STDERR_TAIL_LINES, SegmentRun, not_run, run_segment
from harness.fixtures import FixtureBuilder
from harness.host import cpu_dependence, current_host
from harness.normalize import normalize
from harness.scenario import Case, Known, cases, parse_scenario
from harness.worker.outcome import CRASH, NOT_RUN, OK, UNSUPPORTED, describe, intended_stop

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MEMORY_MB = 2048


@dataclass
class Runtime:
    """A runtime as the worker reported it, or the reason it could not be used."""

    name: str
    python: str
    family: str | None = None
    version: str | None = None
    variant: str = ""
    adapter: str | None = None
    python_version: str | None = None
    unavailable: str | None = None
    provisioned: bool = True
    pinned: str | None = None  # the version tox.ini pins, when it came from there
    cpu_dependent: bool = False  # unavailable because of this host's CPU, not the release alone

    @property
    def status(self) -> str:
        if not self.provisioned:
            return "not provisioned"
        return "unavailable" if self.unavailable else "ok"

    @property
    def problem(self) -> str | None:
        """`not provisioned: why` or `not usable: why`, as every output shows it."""
        if self.unavailable is None:
            return None
        return f"{'not provisioned' if not self.provisioned else 'not usable'}: {self.unavailable}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "family": self.family,
            "version": self.version,
            "pinned": self.pinned,
            "variant": self.variant,
            "adapter": self.adapter,
            "interpreter": self.python,
            "python": self.python_version,
            "status": self.status,
            "reason": self.unavailable,
            "cpu_dependent": self.cpu_dependent,
        }


def probe(
    python: str,
    scratch: Path,
    name: str | None = None,
    family: str | None = None,
    variant: str = "",
) -> Runtime:
    """Ask a worker on this interpreter which runtime it has, without running any step."""
    scratch.mkdir(parents=True, exist_ok=True)
    label = name or Path(python).name
    try:
        seg = run_segment(
            python, [], 0, scratch, {}, timeout=120, memory_mb=0, family=family, variant=variant
        )
    except OSError as exc:
        return Runtime(label, python, unavailable=f"cannot start {python}: {exc}")
    if seg.runtime is None:
        died = seg.results[-1] if seg.results else {}  # the worker died before it was ready
        reason = seg.unavailable or seg.harness_error or f"worker exited {seg.returncode}"
        if died and not (seg.unavailable or seg.harness_error):
            reason = f"the worker died before it was ready: {_failure_text(died)}"
        reason, on_cpu = _on_this_cpu(reason, reason, died.get("signal"), died.get("stderr_tail"))
        return Runtime(
            label, python, family=family, variant=variant, unavailable=reason, cpu_dependent=on_cpu
        )
    info = seg.runtime
    label = f"{info['family']}-{info['version']}" + (
        f"-{info['variant']}" if info["variant"] else ""
    )
    broken = _cannot_compile(python, scratch, family, variant)
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
    python: str, scratch: Path, family: str | None, variant: str
) -> tuple[str, bool] | None:
    """Why this runtime cannot compile and instantiate a trivial module, if it cannot, and
    whether that depends on this host's CPU."""
    module = scratch / "smoke.wasm"
    module.write_bytes(_SMOKE_WASM)
    smoke = parse_scenario({"steps": [{"compile": "smoke"}, "instantiate"]}, {}, "probe", "probe")
    steps = [s.to_json() for s in cases(smoke)[0].segments[0]]

    def attempt() -> SegmentRun:
        return run_segment(
            python, steps, 0, scratch, {"smoke": str(module)}, 120, 0, family, variant
        )

    try:
        seg = attempt()
        failed = next((r for r in seg.results if r.get("outcome") != "ok"), None)
        if failed and _cause_lost(failed) and seg.isolation == forkserver.FORK:
            # A fork's crash report carries the warm worker's frames too, and the stderr tail
            # can lose the line that says why; a fresh interpreter's is shorter. The runtime
            # is unusable either way, so its warm worker is not needed any more.
            forkserver.forget(python, family, variant, "it cannot compile a trivial module")
            again = attempt()
            retried = next((r for r in again.results if r.get("outcome") != "ok"), None)
            if retried and not _cause_lost(retried):
                seg, failed = again, retried
    except OSError as exc:
        return f"cannot start {python}: {exc}", False
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


def _failure_text(failed: dict[str, Any]) -> str:
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


def _cause_lost(failed: dict[str, Any]) -> bool:
    """A crash whose stderr tail says nothing of why, or is full (so it may start after the
    panic line) and names no panic."""
    tail = failed.get("stderr_tail") or ""
    if failed["outcome"] != CRASH or rust_panic(tail) is not None:
        return False
    return crash_cause(tail) is None or len(tail.splitlines()) >= STDERR_TAIL_LINES


def _on_this_cpu(reason: str, *evidence: str | None) -> tuple[str, bool]:
    """The reason, saying so when the failure depends on this host's CPU."""
    why = cpu_dependence(*evidence)
    if why is None:
        return reason, False
    return f"{reason}; depends on this host's CPU ({current_host().cpu_summary}): {why}", True


# Rust's panic line, before 1.73 (`panicked at 'MSG', FILE:L:C`) and since (`panicked at
# FILE:L:C:` then MSG on the next line); FILE under cargo's registry names the crate and version.
_PANIC_OLD = re.compile(r"panicked at '(?P<message>.*)', (?P<file>\S+?):\d+:\d+")
_PANIC_NEW = re.compile(r"panicked at (?P<file>\S+?):\d+:\d+:\n(?P<message>[^\n]*)")
_CRATE = re.compile(r"/(?P<crate>[A-Za-z0-9_-]+?)-(?P<version>\d+\.\d+\.\d+[^/]*)/src/")
# Other lines that say why a process died (a dynamic loader's or a C library's assertion, a
# Rust runtime abort); Python's own `Fatal Python error: Aborted` only repeats the signal.
_CAUSE_LINES = re.compile(
    r"^(?:.*\b(?P<line>Inconsistency detected by ld\.so: .*|Assertion `.*' failed\.?"
    r"|fatal runtime error: .*|memory allocation of \d+ bytes failed.*))$",
    re.M,
)


def rust_panic(stderr: str | None) -> tuple[str, str | None] | None:
    """A Rust panic's message in a stderr text, and `crate version` when cargo built it from a
    registry crate."""
    if not stderr:
        return None
    found = _PANIC_OLD.search(stderr) or _PANIC_NEW.search(stderr)
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
    found = _CAUSE_LINES.search(stderr or "")
    return normalize(found["line"]) if found else None


def select(cases: Iterable[Case], pattern: str | None) -> list[Case]:
    """Cases whose id or tags contain the pattern (case-insensitive), like pytest's -k."""
    if not pattern:
        return list(cases)
    needle = pattern.lower()
    return [
        c
        for c in cases
        if needle in c.id.lower() or any(needle == t.lower() for t in c.scenario.tags)
    ]


def workdir_for(out: Path, case: Case, label: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.=,-]+", "_", case.id)[:120]
    return out / "work" / re.sub(r"[^A-Za-z0-9_.-]+", "__", label) / safe


def run_case(
    case: Case,
    runtime: Runtime,
    builder: FixtureBuilder,
    out: Path,
    timeout: float,
    memory_mb: int,
    keep_work: bool = False,
    consumer: Runtime | None = None,
    producer: Runtime | None = None,
) -> dict[str, Any]:
    """Run a case's segments in fresh processes sharing one work dir.

    With a `consumer`, this is an upgrade run: the segments before the first restart run on
    `runtime` (the producer), the rest on the consumer, as an application does across an upgrade.
    With a `producer`, the first segment runs there instead and the run is `runtime`'s.
    """
    upgrade = consumer is not None
    label = f"{runtime.name}→{consumer.name}" if consumer is not None else runtime.name
    workdir = workdir_for(out, case, label)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    fixtures = {name: str(builder.build(name)) for name in sorted(case.fixtures)}
    limit = case.scenario.timeout or timeout
    results: list[dict[str, Any]] = []
    segments: list[dict[str, Any]] = []
    started = time.monotonic()
    stop_reason: str | None = None
    observed = False  # stopped by an observation: the steps not run are as intended
    if consumer is not None:
        known = case.known_for(None, runtime.name, consumer.name)
    else:
        known = case.known_for(runtime.name, producer.name if producer else None)
    for index, steps in enumerate(case.segments):
        payload = [_with_known(s.to_json(), known) for s in steps]
        if stop_reason is not None:
            results += [not_run(s, stop_reason, observed) for s in payload]
            continue
        on = consumer if consumer is not None and index > 0 else runtime
        if producer is not None and index == 0:
            on = producer
        seg: SegmentRun = run_segment(
            on.python, payload, index, workdir, fixtures, limit, memory_mb, on.family, on.variant
        )
        segments.append(
            {
                "index": index,
                "runtime": on.name,
                "returncode": seg.returncode,
                "duration_s": seg.duration_s,
                "isolation": seg.isolation,
                "isolation_reason": seg.isolation_reason,
            }
        )
        if seg.unavailable:
            stop_reason = f"runtime {on.name} unavailable: {seg.unavailable}"
        elif seg.stopped:
            stop_reason, observed = seg.stopped, True
        done = {r["index"] for r in seg.results}
        results += seg.results
        if not seg.completed and stop_reason is None:
            failed = next((r for r in seg.results if r.get("met") is False), None)
            last = seg.results[-1] if seg.results else None
            if failed:
                stop_reason = (
                    f"step {failed['index'] + 1} ({failed['op']}) did not meet its expectation"
                )
            elif last is not None and (why := intended_stop(last, last["index"] in known)):
                stop_reason, observed = why, True  # it crashed or hung where that was allowed
            else:
                stop_reason = "segment did not finish"
        results += [
            not_run(s, stop_reason or "", observed) for s in payload if s["index"] not in done
        ]
    stated = {
        s.index: s.args["results"] for seg in case.segments for s in seg if s.args.get("results")
    }
    for r in results:
        r["normalized_message"] = normalize(r.get("message"))
        r["message"] = truncate(r.get("message"))
        if r["index"] in known:
            r["known"] = known[r["index"]].reason
        if r["index"] in stated:  # the scenario's own results, whatever a known entry says
            r["stated_results"] = stated[r["index"]]
    status = run_status(results)
    if status != "fail" and not keep_work:
        shutil.rmtree(workdir, ignore_errors=True)
    record = _identity(case, runtime, consumer) if upgrade else _identity(case, runtime)
    if producer is not None:
        record["producer"] = producer.name
    applied = sorted({r["known"] for r in results if r.get("known") and r["outcome"] != NOT_RUN})
    if applied:
        record["known"] = applied
    record.update(
        outcome=run_outcome(results),
        status=status,
        reason=stop_reason,
        steps=results,
        segments=segments,
        duration_s=round(time.monotonic() - started, 6),
        workdir=str(workdir) if status == "fail" or keep_work else None,
    )
    return record


def _with_known(step: dict[str, Any], known: dict[int, Known]) -> dict[str, Any]:
    if step["index"] in known:
        entry = known[step["index"]]
        step["expect"] = entry.expect.to_json()
        step["known"] = entry.reason
        if entry.results is not None:
            step["args"] = {**step["args"], "results": list(entry.results)}
    return step


def _identity(case: Case, runtime: Runtime, consumer: Runtime | None = None) -> dict[str, Any]:
    where: dict[str, Any] = (
        {"from": runtime.name, "to": consumer.name}
        if consumer is not None
        else {"runtime": runtime.name}
    )
    return {
        "scenario": case.scenario.name,
        "path": case.scenario.path,
        "tags": list(case.scenario.tags),
        "params": case.params,
        "params_id": case.params_id,
        "case": case.id,
        **where,
    }


def placeholder(
    case: Case, runtime: Runtime, reason: str, consumer: Runtime | None = None
) -> dict[str, Any]:
    """A requested run that could not happen: it still appears, with the reason."""
    record = _identity(case, runtime, consumer)
    steps = [
        {**not_run(s.to_json(), reason), "normalized_message": None}
        for segment in case.segments
        for s in segment
    ]
    record.update(
        outcome=NOT_RUN,
        status=NOT_RUN,
        reason=reason,
        steps=steps,
        segments=[],
        duration_s=0.0,
        workdir=None,
    )
    return record


MAX_MESSAGE = 8000  # old releases put megabytes of backtrace into a stack-overflow message


def truncate(message: str | None, limit: int = MAX_MESSAGE) -> str | None:
    if message is None or len(message) <= limit:
        return message
    return f"{message[:limit]}… [{len(message) - limit} more characters cut]"


def run_status(steps: list[dict[str, Any]]) -> str:
    """pass: every step met its expectation; unsupported: the runtime could not express a step
    (not a failure of the runtime, nor of the scenario); fail: anything else."""
    first_unmet = next((s for s in steps if s.get("met") is False), None)
    if first_unmet is None:
        return "pass" if steps and all(s.get("met") for s in steps) else "fail"
    return "unsupported" if first_unmet["outcome"] == UNSUPPORTED else "fail"


def run_outcome(steps: list[dict[str, Any]]) -> str:
    """A run's outcome is that of its first step that did not end `ok`."""
    for step in steps:
        if step["outcome"] not in (OK, NOT_RUN):
            return str(step["outcome"])
    return OK
