"""What a dead process leaves to explain itself: its signal's name, and the tail of its stderr
with the lines that say why it died. Stdlib only (Python 3.9): the worker may use it too.

A crash is diagnosed from the end of stderr, but what ends a process is often not last: Python's
fault handler lists every frame after a Rust panic (a forked worker's list holds the warm
worker's frames too, so the panic falls out of the last lines). The one tail therefore keeps,
above the last lines, the lines that name a cause: a Rust panic, a dynamic loader's or C
library's assertion, a Rust runtime abort.
"""

from __future__ import annotations

import os
import re
import signal
from dataclasses import dataclass
from typing import IO

TAIL_LINES = 20  # the last lines of stderr kept for a crash report ...
TAIL_BYTES = 4000  # ... and at most this much of them
CAUSE_BYTES = 1000  # at most this much of the cause lines found above the last lines
SCAN_BYTES = 1 << 20  # how far back from the end cause lines are looked for
CUT = "[…]"  # between the cause lines and the last lines, where stderr was left out

# Rust's panic line, before 1.73 (`panicked at 'MSG', FILE:L:C`) and since (`panicked at
# FILE:L:C:` then MSG on the next line); FILE under cargo's registry names the crate and version.
PANIC_OLD = re.compile(r"panicked at '(?P<message>.*)', (?P<file>\S+?):\d+:\d+")
PANIC_NEW = re.compile(r"panicked at (?P<file>\S+?):\d+:\d+:\n(?P<message>[^\n]*)")
# Go's: a panic (`panic: MSG`, then `[signal SIGSEGV: ...]` for a nil dereference) or a fatal
# runtime error (`fatal error: MSG`), each above the goroutine dumps that fill the last lines.
_GO_PANIC = r"(?:panic|fatal error): .*"
GO_PANIC = re.compile(rf"^(?P<line>{_GO_PANIC})$", re.M)
# Other lines that say why a process died (a dynamic loader's or a C library's assertion, a
# Rust runtime abort, Go's); Python's own `Fatal Python error: Aborted` only repeats the signal.
CAUSE_LINES = re.compile(
    r"^(?:.*\b(?P<line>Inconsistency detected by ld\.so: .*|Assertion `.*' failed\.?"
    r"|fatal runtime error: .*|memory allocation of \d+ bytes failed.*)"
    rf"|(?P<go>{_GO_PANIC}|\[signal SIG\w+: .*\]))$",
    re.M,
)


@dataclass(frozen=True)
class Ending:
    """How a segment's process ended, as the coordinator saw it."""

    returncode: int | None  # negative: the signal that killed it; None: never learned
    timed_out: bool  # still running at its deadline, so ended by the coordinator
    lost: str | None  # why how it ended is unknown (its fork server died first)
    stderr_tail: str
    duration_s: float
    # the signal that killed it when the coordinator had sent none (SIGKILL or SIGTERM only):
    # someone else's, or the kernel's (the OOM killer); the run tries its case once more
    killed_from_outside: str | None = None


OUTSIDE_SIGNALS = (signal.SIGKILL, signal.SIGTERM)


def killed_from_outside(returncode: int | None, signalled: bool) -> str | None:
    """`SIGKILL` or `SIGTERM` when that ended a process its coordinator had sent no signal."""
    if signalled or returncode is None or -returncode not in OUTSIDE_SIGNALS:
        return None
    return signal_name(-returncode)


def signal_name(number: int) -> str:
    """`SIGSEGV` for 11; `signal 99` for a number this platform has no name for."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def exit_description(returncode: int) -> str:
    """How a process ended, from its return code (negative: the signal that killed it)."""
    if returncode < 0:
        return f"killed by {signal_name(-returncode)}"
    return f"exited with {returncode}"


def stderr_tail(stream: IO[bytes]) -> str:
    """The last lines of a process's stderr file (TAIL_LINES, at most TAIL_BYTES), and above
    them, when they fell outside, the lines that said why it died (at most CAUSE_BYTES)."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(max(0, size - SCAN_BYTES))
    data = stream.read()
    last = data[-TAIL_BYTES:].decode("utf-8", "replace").splitlines()[-TAIL_LINES:]
    above = data.decode("utf-8", "replace").splitlines()
    # the last lines' first one may be cut short: look for causes in all of it
    above = above[: max(0, len(above) - len(last) + 1)] if last else above
    lost = [line for line in cause_lines("\n".join(above)) if line not in last]
    causes = _within(lost, CAUSE_BYTES)
    return "\n".join([*causes, CUT, *last] if causes else last)


def go_panic(stderr: str | None) -> str | None:
    """A Go program's panic or fatal error line (`panic: runtime error: invalid memory address
    or nil pointer dereference`), the first when a panic panicked again."""
    found = GO_PANIC.search(stderr or "")
    return found["line"].strip() if found else None


def cause_lines(text: str) -> list[str]:
    """The lines of a stderr text that say why its process died, in their order: a Rust panic
    (with the message line that follows it since Rust 1.73) and the other CAUSE_LINES."""
    spans: set[tuple[int, int]] = set()
    for pattern in (PANIC_OLD, PANIC_NEW, CAUSE_LINES):
        for found in pattern.finditer(text):
            start = text.rfind("\n", 0, found.start()) + 1
            end = text.find("\n", found.end())
            spans.add((start, len(text) if end < 0 else end))
    lines: list[str] = []
    reached = 0
    for start, end in sorted(spans):
        start = max(start, reached)
        if start < end:
            lines += text[start:end].strip("\n").splitlines()
        reached = max(reached, end)
    return lines


def _within(lines: list[str], budget: int) -> list[str]:
    """The first lines that fit in `budget` characters (a longer first line is cut)."""
    kept: list[str] = []
    for line in lines:
        if len(line) > budget:
            if not kept:
                kept.append(line[:budget] + "…")
            break
        kept.append(line)
        budget -= len(line) + 1
    return kept
