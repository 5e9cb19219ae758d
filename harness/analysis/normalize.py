"""Normalize runtime messages so that two messages differ only when their meaning does.

What the runtime says happened stays, all of it: the headline and every line of the cause chain
(`Caused by: ... wasm trap: integer divide by zero`). Backtraces are dropped frame by frame, and
addresses, paths, temp names, durations and version strings, which change between runs and
releases without changing what happened, become placeholders. tests/golden/normalize/ holds real
messages of many releases with their normalized forms.
"""

from __future__ import annotations

import re

# Frames are the indented lines under a backtrace's header. A section ends at the first blank or
# unindented line, never at the end of the message: wasmtime 3.0+ prints its wasm backtrace
# *before* the cause chain, which must survive.
_FRAMES = r"(?:\n[ \t]+[^\n]*)*"
_PY_FRAMES = r"(?:\n[ \t]*(?=\n)|\n[ \t]+[^\n]*)*"  # wasmtime-py 0.2x puts blank lines between

# Applied to the message as the runtime wrote it, since they need its lines.
_SECTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # wasmtime's wasm backtrace; 3.0+ appends the header to the headline ("error while executing
    # at wasm backtrace:"), so the `at` that introduces it goes with it
    (re.compile(r"(?:\bat\s+)?wasm\s+backtrace:[ \t]*" + _FRAMES), ""),
    # the hint under a wasm backtrace, reworded between releases ("run with", "using the")
    (re.compile(r"^[ \t]*note:[^\n]*WASMTIME_BACKTRACE_DETAILS[^\n]*", re.M), ""),
    # anyhow's Rust backtrace when RUST_BACKTRACE is set: symbols and source lines of the build
    (re.compile(r"^[ \t]*Stack\s+backtrace:[ \t]*" + _FRAMES, re.M), ""),
    # a Python traceback that a host function's exception carries (0.2x): paths, line numbers and
    # carets change with every edit and Python release; the `Class: message` line after it stays
    (re.compile(r"^[ \t]*Traceback \(most recent call last\):" + _PY_FRAMES, re.M), ""),
    # wasmer's trap frames, one `    at FUNC (<module>[N]:0xOFFSET)` line each, and our count of
    # the frames a long trace had beyond those kept
    (re.compile(r"(?:\n[ \t]+(?:at |\.\.\. \d+ more frame)[^\n]*)+"), ""),
    # wazero's: the wasm frames under `wasm stack trace:`, and the goroutine dump of a panic it
    # recovered (`Go runtime stack trace:`, always last)
    (re.compile(r"\n?wasm stack trace:[ \t]*" + _FRAMES), ""),
    (re.compile(r"\n+Go runtime stack trace:.*", re.S), ""),
    (re.compile(r"\s+"), " "),
)

# Applied to the one line left, so that a line break inside a token cannot hide it.
_TOKENS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"0x[0-9a-fA-F]+"), "0x<addr>"),
    # `=` and `,` appear in work dir names (`traps[code=x,export=y]` runs in `traps_code=x,...`);
    # a path starts a word and is not glued to a placeholder, or a second pass would differ
    (re.compile(r"(?<![\w.>])(?:/[\w.@+=,-]+){2,}/?"), "<path>"),
    (re.compile(r"\b(?:tmp|wasm-compat-)[\w-]{4,}\b"), "<tmp>"),
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:ns|µs|us|ms|s)\b"), "<duration>"),
    # an artifact's producer: "version '27.0.0'", and from 38 on only the major, "version '38'"
    (re.compile(r"(\bversion '?)\d+(?:\.\d+)*(?:[-+][\w.]+)?\b"), r"\1<version>"),
    (re.compile(r"\bv?\d+\.\d+\.\d+(?:[-+][\w.]+)?\b"), "<version>"),
    (re.compile(r"\bpid \d+\b"), "pid <n>"),
    # Go's runtime names whichever allocation found the heap exhausted ("runtime: out of
    # memory", "out of memory allocating heap arena metadata"): the same event, run to run
    (re.compile(r"\bfatal error: (?:runtime: )?out of memory\b.*"), "fatal error: out of memory"),
)

MAX_LENGTH = 500


def normalize(message: str | None) -> str | None:
    if message is None:
        return None
    text, before = message, None
    while text != before:  # dropping one section can bring another's header to a line's start
        before = text
        for pattern, replacement in _SECTIONS:
            text = pattern.sub(replacement, text)
    for pattern, replacement in _TOKENS:
        text = pattern.sub(replacement, text)
    text = text.strip()
    return text if len(text) <= MAX_LENGTH else text[:MAX_LENGTH] + "…"
