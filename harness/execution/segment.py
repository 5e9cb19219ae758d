"""Run segments in isolated worker processes and turn whatever happens into step results.

Each segment gets a fresh process in its own session (so its whole process group can be killed),
a memory cap, a HOME inside the run's work dir, and a deadline. A dead worker is a result: the
step in flight becomes `crash` with its signal or exit code and the stderr tail; a worker past
its deadline is interrupted, terminated, then killed, and the step in flight becomes `timeout`.

The process is a fork of the runtime's warm worker (`harness.execution.forkserver`), or a fresh
interpreter where that is unsafe or turned off; `SegmentRun.isolation` says which, and why.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import harness
from harness.execution import forkserver
from harness.execution.forkserver import FORK, SPAWN, ForkedChild, ServerUnavailable
from harness.model.outcome import CRASH, NOT_RUN, TIMEOUT, check, new_result
from harness.worker.protocol import PROTOCOL_VERSION, ProtocolError, decode, encode

STDERR_TAIL_LINES = 20
STDERR_TAIL_BYTES = 4000
ESCALATION = ((signal.SIGINT, 0.5), (signal.SIGTERM, 0.5), (signal.SIGKILL, 5.0))


@dataclass
class SegmentRun:
    """What came back from one segment's process."""

    results: list[dict[str, Any]] = field(default_factory=list)
    runtime: dict[str, Any] | None = None
    python: str | None = None
    unavailable: str | None = None  # the runtime cannot be imported or used in this env
    harness_error: str | None = None  # the worker itself failed: a bug in wasm-compat
    completed: bool = False
    stopped: str | None = None  # an observation ended other than ok; later segments do not run
    returncode: int | None = None
    duration_s: float = 0.0
    isolation: str = SPAWN  # "fork": a fork of the runtime's warm worker; "spawn": a fresh one
    isolation_reason: str | None = None  # why not a fork


_worker_path: str | None = None


def worker_pythonpath() -> str:
    """A directory holding only the `harness` package, for the worker's PYTHONPATH.

    Putting the harness's own site-packages on a runtime env's path would leak 3.11 packages into
    a 3.9 interpreter; a directory with one symlink exposes exactly our stdlib-only code.
    """
    global _worker_path
    if _worker_path is None:
        folder = tempfile.mkdtemp(prefix="wasm-compat-worker-")
        os.symlink(Path(harness.__file__).resolve().parent, os.path.join(folder, "harness"))
        atexit.register(shutil.rmtree, folder, True)
        _worker_path = folder
    return _worker_path


def segment_env(workdir: Path) -> dict[str, str]:
    """Only the work dir survives a restart, so the runtime's default cache location goes there."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "VIRTUAL_ENV", "WASMTIME_", "WASMER_"))
    }
    home = workdir / ".home"
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        PYTHONPATH=worker_pythonpath(),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        PYTHONFAULTHANDLER="1",
        HOME=str(home),
        XDG_CACHE_HOME=str(workdir / ".cache"),
        RUST_BACKTRACE="0",
    )
    return env


def run_segment(
    python: str,
    steps: list[dict[str, Any]],
    index: int,
    workdir: Path,
    fixtures: dict[str, str],
    timeout: float,
    memory_mb: int,
    family: str | None = None,
    variant: str = "",
) -> SegmentRun:
    out = SegmentRun()
    by_index = {s["index"]: s for s in steps}
    in_flight: int | None = None
    stderr_file = tempfile.TemporaryFile(prefix="wasm-compat-stderr-")  # noqa: SIM115 - read after the process ends
    payload = {
        "index": index,
        "workdir": str(workdir),
        "fixtures": fixtures,
        "steps": steps,
        "protocol": PROTOCOL_VERSION,
    }
    commands = encode("run_segment", segment=payload) + encode("shutdown")
    started = time.monotonic()
    env = segment_env(workdir)
    proc: subprocess.Popen[bytes] | ForkedChild | None = None
    server, out.isolation_reason = forkserver.server_for(python, family, variant, segment_env)
    if server is not None:
        ours, theirs = socket.socketpair()
        ours.setblocking(False)  # the commands wait in the socket for the child: no round trip
        rest = commands
        with contextlib.suppress(BlockingIOError):
            rest = commands[ours.send(commands) :]
        ours.setblocking(True)
        try:
            proc = server.fork(workdir, env, memory_mb, theirs.fileno(), stderr_file.fileno())
        except ServerUnavailable as exc:
            out.isolation_reason = str(exc)
            forkserver.forget(python, family, variant, str(exc))
            ours.close()
        finally:
            theirs.close()
    if isinstance(proc, ForkedChild):
        out.isolation = FORK
        events: Any = ours
        with contextlib.suppress(OSError):
            ours.sendall(rest)
            ours.shutdown(socket.SHUT_WR)
    else:
        proc = _spawn(python, workdir, env, stderr_file, memory_mb, family, variant)
        assert proc.stdin is not None and proc.stdout is not None
        events = proc.stdout
        try:
            proc.stdin.write(commands)
            proc.stdin.close()
        except BrokenPipeError:
            pass
    timed_out = False
    buffer = b""
    selector = selectors.DefaultSelector()
    selector.register(events, selectors.EVENT_READ)
    try:
        while True:
            remaining = started + timeout - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            if not selector.select(remaining):
                continue
            try:
                chunk = os.read(events.fileno(), 65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if not line.strip():
                    continue
                try:
                    message = decode(line)
                except ProtocolError as exc:  # only our worker writes here: a harness bug
                    out.harness_error = f"protocol error: {exc}"
                    continue
                name = message["name"]
                if name == "worker_ready":
                    if message.get("protocol") != PROTOCOL_VERSION:
                        out.unavailable = (
                            f"worker speaks protocol {message.get('protocol')}, "
                            f"this wasm-compat speaks {PROTOCOL_VERSION}"
                        )
                        break
                    out.runtime, out.python = message["runtime"], message.get("python")
                elif name == "worker_failed":
                    if message.get("harness_error"):
                        out.harness_error = f"{message['reason']}\n{message.get('detail', '')}"
                    else:
                        out.unavailable = message["reason"]
                elif name == "step_started":
                    in_flight = message["index"]
                elif name == "step_finished":
                    out.results.append(message["result"])
                    in_flight = None
                elif name == "segment_finished":
                    out.completed = bool(message["completed"])
                    out.stopped = message.get("stopped")
    except BaseException:  # Ctrl-C or a bug here: the segment's process must not outlive us
        _kill_group(proc, signal.SIGKILL)
        raise
    finally:
        selector.close()
        if timed_out:
            _escalate(proc)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _kill_group(proc, signal.SIGKILL)
            proc.wait()
        _kill_group(proc, signal.SIGKILL)  # nothing the segment started outlives it
        events.close()
    if isinstance(proc, ForkedChild) and proc.lost and not timed_out:
        out.harness_error = f"the segment's process ended unobserved: {proc.lost}"
    out.returncode = proc.returncode
    out.duration_s = round(time.monotonic() - started, 6)
    tail = _tail(stderr_file)
    stderr_file.close()
    if out.unavailable is not None:
        return out
    failure = _failure(proc.returncode, timed_out, timeout)
    if out.harness_error is not None:
        failure = {
            "outcome": "error",
            "error_kind": "harness",
            "error_type": "HarnessError",
            "message": out.harness_error,
        }
    if failure is not None:
        if in_flight is None:
            done = {r["index"] for r in out.results}
            pending = [i for i in by_index if i not in done]
            in_flight = pending[0] if pending and not out.completed else None
        if in_flight is None:  # everything ran; the process died on its way out
            step: dict[str, Any] = {
                "index": -1,
                "op": "teardown",
                "line": None,
                "expect": {"kind": "ok"},
            }
        else:
            step = by_index[in_flight]
        result = new_result(step)
        result.update(failure)
        result["stderr_tail"] = tail
        result["duration_s"] = out.duration_s
        met, why = check(step["expect"], result)
        result["met"], result["why"] = met, why or None
        out.results.append(result)
        out.completed = met and in_flight is not None and _only_last_missing(by_index, out)
    elif out.results and out.results[-1]["outcome"] != "ok":
        out.results[-1]["stderr_tail"] = tail
    return out


def _spawn(
    python: str,
    workdir: Path,
    env: dict[str, str],
    stderr_file: Any,
    memory_mb: int,
    family: str | None,
    variant: str,
) -> subprocess.Popen[bytes]:
    command = [python, "-m", "harness.worker", "--memory-mb", str(memory_mb)]
    if family:
        command += ["--family", family]
    if variant:
        command += ["--variant", variant]
    return subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr_file,
        cwd=workdir,
        env=env,
        start_new_session=True,
    )


def _only_last_missing(by_index: dict[int, Any], out: SegmentRun) -> bool:
    """A crash that was expected completes the segment only if it hit the segment's last step."""
    return bool(max(by_index) == out.results[-1]["index"])


def _failure(returncode: int | None, timed_out: bool, timeout: float) -> dict[str, Any] | None:
    if timed_out:
        return {
            "outcome": TIMEOUT,
            "message": f"no result within {timeout:g} s; process group killed",
        }
    if returncode is None or returncode == 0:
        return None
    if returncode < 0:
        name = _signal_name(-returncode)
        return {"outcome": CRASH, "signal": name, "message": f"worker killed by {name}"}
    return {
        "outcome": CRASH,
        "exit_code": returncode,
        "message": f"worker exited with {returncode}",
    }


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _escalate(proc: subprocess.Popen[bytes] | ForkedChild) -> None:
    for sig, grace in ESCALATION:
        _kill_group(proc, sig)
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _kill_group(proc: subprocess.Popen[bytes] | ForkedChild, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _tail(stream: Any) -> str:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(max(0, size - STDERR_TAIL_BYTES))
    text = stream.read().decode("utf-8", "replace")
    lines = text.splitlines()[-STDERR_TAIL_LINES:]
    return "\n".join(lines)


def not_run(step: dict[str, Any], reason: str, intended: bool = False) -> dict[str, Any]:
    """A step that never ran; `intended` when an observation stopped the run (it still passes)."""
    result = new_result(step)
    result["outcome"] = NOT_RUN
    result["why"] = reason
    if intended:
        result["met"] = True
    return result
