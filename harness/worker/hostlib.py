"""The fixed library of host functions a scenario may import, under the module name `host`.

Scenarios never contain code: they choose `imports: host`, and each import of the module is
resolved by name here. The modules a scenario declares itself (`declared`) are made of the same
parts. Adapters turn each entry into the runtime's own host function.
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable, NamedTuple

MODULE = "host"
# What every trap raised by a host function says, whichever function it was: how a runtime that
# hands back only the message (no exception object) is still told it was the host's trap.
HOST_TRAP_MESSAGE = re.compile(r"host function '[^']*' was called")


class HostTrap(Exception):
    """Raised by the `trap` host function and by a declared one that traps; the runtime turns it
    into a wasm trap (trap code `host`)."""


class HostFunc(NamedTuple):
    params: tuple[str, ...]
    results: tuple[str, ...]
    body: Callable[..., Any]


# What one instantiate links: module -> name -> host function.
Imports = dict[str, dict[str, HostFunc]]


class HostLibrary:
    """One segment's host functions, with the log of calls to `record`, which the functions a
    scenario declares to record write to as well (`declared`)."""

    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.functions: dict[str, HostFunc] = {
            "identity_i32": HostFunc(("i32",), ("i32",), lambda x: x),
            "identity_i64": HostFunc(("i64",), ("i64",), lambda x: x),
            "identity_f32": HostFunc(("f32",), ("f32",), lambda x: x),
            "identity_f64": HostFunc(("f64",), ("f64",), lambda x: x),
            "add_i32": HostFunc(("i32", "i32"), ("i32",), _add_i32),
            "add_i64": HostFunc(("i64", "i64"), ("i64",), _add_i64),
            "record": HostFunc(("i32",), (), self._record),
            "trap": HostFunc((), (), _trap),
            "exit": HostFunc(("i32",), (), exit_process),
            "block": HostFunc((), (), block),
            "flood": HostFunc(("i32",), (), _flood),
        }

    def _record(self, value: int) -> None:
        self.calls.append(value)


def wrap(value: int, bits: int) -> int:
    """An integer as the signed value of its low `bits` bits (what wasm keeps of a sum)."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _add_i32(a: int, b: int) -> int:
    return wrap(a + b, 32)


def _add_i64(a: int, b: int) -> int:
    return wrap(a + b, 64)


def _trap() -> None:
    raise HostTrap("host function 'trap' was called")


def trap_message(function: str) -> str:
    """The message of the trap a declared function (`MODULE.NAME`) raises."""
    return f"host function '{function}' was called: it is declared to trap"


def exit_process(code: int) -> None:
    # An embedder's host function that ends the process: the step becomes a crash with this code.
    os._exit(code & 0xFF)


def block() -> None:
    # An embedder's host function stuck in native code (a lock, a syscall): only a kill ends it.
    import signal

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    while True:
        signal.sigtimedwait({signal.SIGUSR2}, 3600)


def _flood(megabytes: int) -> None:
    # A host function (or a runtime's logging) that writes without end to the process's stdout.
    chunk = b"\x1b[31m<b>flood</b>\xff\xfe " * 4096
    left = megabytes * 1024 * 1024
    while left > 0:
        left -= os.write(1, chunk[: min(len(chunk), left)])
