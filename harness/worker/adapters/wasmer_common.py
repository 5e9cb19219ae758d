"""Pieces of the wasmer adapters that need no wasmer: variants, error messages, trap codes.

wasmer-python raises the builtin RuntimeError for nearly everything. A wasm trap is a Rust
`RuntimeError` whose text starts with "RuntimeError: " and goes on with one `    at FUNC (...)`
line per frame (a stack overflow gives hundreds of thousands); WASI's proc_exit is such a trap
saying "WASI exited with code: N". Compile, link and deserialize errors have other texts. An
exception raised by a Python host function comes back as itself on 1.1, and as a trap saying
"Python exception: CLASS: message" on 1.0.
"""

from __future__ import annotations

import re

from harness.model.step import ErrorFields
from harness.model.variants import WASMER_COMPILERS, WASMER_ENGINE_CLASSES
from harness.worker.adapters.base import RuntimeUnavailable, trap_code_from_message
from harness.worker.hostlib import HostTrap

TRAP_PREFIX = "RuntimeError: "
_WASI_EXIT = re.compile(r"WASI exited with code: (-?\d+)")
# 1.0 wraps an exception raised by a Python host function in a trap; 1.1 re-raises it as itself
_HOST_EXCEPTION = re.compile(r"Python exception: ([A-Za-z_]\w*)")
MAX_FRAMES = 8
MAX_MESSAGE = 4000


def parse_variant(variant: str) -> tuple[str, str]:
    """`ENGINE-COMPILER` as (engine, compiler); RuntimeUnavailable if it names neither."""
    engine, sep, compiler = variant.strip().lower().partition("-")
    if not sep or engine not in WASMER_ENGINE_CLASSES or compiler not in WASMER_COMPILERS:
        raise RuntimeUnavailable(
            f"wasmer variant {variant!r} is not ENGINE-COMPILER with ENGINE one of "
            f"{', '.join(WASMER_ENGINE_CLASSES)} and COMPILER one of {', '.join(WASMER_COMPILERS)}"
        )
    return engine, compiler


def compiler_module(compiler: str) -> str:
    return "wasmer_compiler_" + compiler


def bounded_message(text: str) -> str:
    """The first line and a few frames of a wasmer error; the rest counted, not kept.

    Reads only as far as it keeps: a stack overflow's text runs to tens of megabytes.
    """
    end = -1
    for _ in range(MAX_FRAMES + 1):
        end = text.find("\n", end + 1)
        if end < 0:
            return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "…"
    kept = text[:end][:MAX_MESSAGE]
    more = text.count("\n", end)
    return f"{kept}\n    ... {more} more frame(s)"


def first_line(message: str) -> str:
    return message.split("\n", 1)[0]


def classify(exc: BaseException) -> ErrorFields:
    """Outcome fields for anything wasmer-python (or a host function) raised."""
    text = bounded_message(str(exc))
    out: ErrorFields = {"outcome": "error", "error_type": type(exc).__name__, "message": text}
    if isinstance(exc, HostTrap):
        out.update({"error_kind": "trap", "trap_code": "host"})
        return out
    head = first_line(text)
    if isinstance(exc, RuntimeError) and head.startswith(TRAP_PREFIX):
        exited = _WASI_EXIT.search(head)
        raised = _HOST_EXCEPTION.match(head, len(TRAP_PREFIX))
        if raised:  # error_type stays RuntimeError: that is what an embedder catches on 1.0
            if raised.group(1) == HostTrap.__name__:
                out.update({"error_kind": "trap", "trap_code": "host"})
            else:
                out["error_kind"] = "runtime"
        elif exited:
            out.update({"error_kind": "exit", "exit_code": int(exited.group(1))})
        else:
            out.update({"error_kind": "trap", "trap_code": trap_code_from_message(head)})
        return out
    out["error_kind"] = "runtime"
    return out
