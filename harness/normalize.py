"""Normalize runtime messages so that two messages differ only when their meaning does.

Addresses, paths, temp names, durations, embedded version strings and backtraces change between
runs and releases without changing what happened; they are replaced by placeholders.
"""

from __future__ import annotations

import re

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # wasm backtraces: everything from the header on is frames, which move with codegen
    (re.compile(r"\n?\s*wasm backtrace:.*", re.S), ""),
    (re.compile(r"\n?\s*note: using the `WASMTIME_BACKTRACE_DETAILS`.*", re.S), ""),
    (re.compile(r"\n?\s*Stack backtrace:.*", re.S), ""),
    # wasmer's trap frames, one `    at FUNC (<module>[N]:0xOFFSET)` line each, and our count of
    # the frames a long trace had beyond those kept
    (re.compile(r"(?:\n[ \t]+(?:at |\.\.\. \d+ more frame)[^\n]*)+"), ""),
    (re.compile(r"0x[0-9a-fA-F]+"), "0x<addr>"),
    # `=` and `,` appear in work dir names (`traps[code=x,export=y]` runs in `traps_code=x,...`)
    (re.compile(r"(?<![\w.])(?:/[\w.@+=,-]+){2,}/?"), "<path>"),
    (re.compile(r"\b(?:tmp|wasm-compat-)[\w-]{4,}\b"), "<tmp>"),
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:ns|µs|us|ms|s)\b"), "<duration>"),
    (re.compile(r"\bv?\d+\.\d+\.\d+(?:[-+][\w.]+)?\b"), "<version>"),
    (re.compile(r"\bpid \d+\b"), "pid <n>"),
    (re.compile(r"\s+"), " "),
)

MAX_LENGTH = 500


def normalize(message: str | None) -> str | None:
    if message is None:
        return None
    text = message
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    text = text.strip()
    return text if len(text) <= MAX_LENGTH else text[:MAX_LENGTH] + "…"
