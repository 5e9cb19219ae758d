"""Message normalization, checked against real messages of many releases (tests/golden/normalize/).

Each golden file holds what one runtime said for a set of cases (a trap in a nested call, a host
trap, a missing import, a module that does not compile, an artifact it cannot load), some more
than once: a second run, RUST_BACKTRACE=1, a module with DWARF. Variants of a case must normalize
alike, different cases must not, and the cause chain must survive the backtrace before it.
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from harness.analysis.normalize import normalize

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "normalize"


def _load() -> dict[str, list[dict[str, Any]]]:
    docs = (json.loads(p.read_text()) for p in sorted(GOLDEN.glob("*.json")))
    return {d["runtime"]: d["messages"] for d in docs}


RELEASES = _load()
ENTRIES = [(runtime, e) for runtime, entries in RELEASES.items() for e in entries]


def _id(runtime: str, entry: dict[str, Any]) -> str:
    return "/".join(filter(None, (runtime, entry["case"], entry.get("variant"))))


@pytest.mark.parametrize(("runtime", "entry"), ENTRIES, ids=[_id(*x) for x in ENTRIES])
def test_golden_message_normalizes_as_recorded(runtime: str, entry: dict[str, Any]) -> None:
    assert normalize(entry["message"]) == entry["normalized"]


def test_golden_messages_span_the_eras() -> None:
    # one release of each era of message shapes, so that a rule cannot fit only some of them
    eras = {"wasmtime-0.27.0", "wasmtime-0.40.0", "wasmtime-3.0.0", "wasmtime-15.0.0"}
    eras |= {"wasmtime-33.0.0", "wasmtime-50.0.1", "wasmer-1.1.0-universal-cranelift"}
    assert eras <= RELEASES.keys()
    assert any(e.get("variant") == "RUST_BACKTRACE=1" for _, e in ENTRIES)


@pytest.mark.parametrize("runtime", sorted(RELEASES))
def test_variants_of_a_case_normalize_alike(runtime: str) -> None:
    by_case: dict[tuple[str, str], set[str]] = {}
    for e in RELEASES[runtime]:
        by_case.setdefault((e["case"], e.get("from", "")), set()).add(normalize(e["message"]) or "")
    assert {k: v for k, v in by_case.items() if len(v) > 1} == {}


@pytest.mark.parametrize("runtime", sorted(RELEASES))
def test_different_cases_do_not_normalize_alike(runtime: str) -> None:
    # Two cases the runtime itself words alike (an artifact from another release and one from
    # another runtime, on some releases) are no concern of the normalizer's.
    firsts = {}
    for e in RELEASES[runtime]:
        firsts.setdefault(e["case"], e)
    for a, b in combinations(firsts.values(), 2):
        if a["message"] != b["message"]:
            assert normalize(a["message"]) != normalize(b["message"]), (a["case"], b["case"])


@pytest.mark.parametrize("runtime", sorted(RELEASES))
def test_every_cause_survives(runtime: str) -> None:
    for entry in RELEASES[runtime]:
        message, normalized = entry["message"], normalize(entry["message"]) or ""
        if "\nCaused by:" not in message:
            continue
        causes = message.split("\nCaused by:", 1)[1].split("\n\n", 1)[0].splitlines()
        assert "Caused by:" in normalized
        for line in filter(str.strip, causes):
            assert (normalize(line) or "") in normalized, _id(runtime, entry)


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        # the same words; only the producer's version in an artifact error and temp paths differ
        ("wasmtime-45.0.0", "wasmtime-50.0.1"),
        # two compilers of one release: other offsets in the frames, the same traps
        ("wasmer-1.1.0-universal-cranelift", "wasmer-1.1.0-universal-singlepass"),
    ],
)
def test_releases_that_say_the_same_normalize_alike(older: str, newer: str) -> None:
    def forms(runtime: str) -> dict[str, str | None]:
        return {e["case"]: normalize(e["message"]) for e in RELEASES[runtime]}

    a, b = forms(older), forms(newer)
    assert a.keys() & b.keys()
    assert {c: (a[c], b[c]) for c in a.keys() & b.keys() if a[c] != b[c]} == {}


def test_a_cause_after_the_backtrace_is_kept() -> None:
    # the shape of every trap from wasmtime 3.0 on: headline, wasm backtrace, then the cause
    def trap(cause: str) -> str:
        return (
            "error while executing at wasm backtrace:\n    0:     0x80 - <unknown>!div\n"
            f"    1:     0x89 - <unknown>!<wasm function 2>\n\nCaused by:\n    {cause}\n"
        )

    divide = normalize(trap("wasm trap: integer divide by zero"))
    assert divide == "error while executing Caused by: wasm trap: integer divide by zero"
    assert divide != normalize(trap("wasm trap: wasm `unreachable` instruction executed"))
    assert normalize("unknown import: `host::f`\n\nCaused by:\n   x") == (
        "unknown import: `host::f` Caused by: x"
    )
    assert normalize(None) is None


def test_frames_and_notes_go_but_unindented_text_after_them_stays() -> None:
    message = (
        "wasm trap: unreachable\nwasm backtrace:\n    0:   0x2a - m!f\n"
        "note: run with `WASMTIME_BACKTRACE_DETAILS=1` environment variable to display more\n"
        "Stack backtrace:\n   0: anyhow::Error::msg\n             at /rustc/abc/src/lib.rs:1:2\n"
        "after"
    )
    assert normalize(message) == "wasm trap: unreachable after"


def test_volatile_parts_are_replaced() -> None:
    a = normalize(
        "failed at 0x7f12ab in /tmp/wasm-compat-x1y2/work/m.cwasm after 12ms (wasmtime 25.0.1)"
    )
    b = normalize("failed at 0x55aa00 in /home/ci/run/work/m.cwasm after 3.5s (wasmtime 33.0.0)")
    assert a == b == "failed at 0x<addr> in <path> after <duration> (wasmtime <version>)"
    # from 38 on an artifact names its producer by the major version alone
    assert normalize("incompatible version '38'") == normalize("incompatible version '27.0.0'")


def test_huge_messages_are_cut_with_a_marker() -> None:
    from harness.execution.run import truncate

    assert truncate("short") == "short"
    cut = truncate("x" * 10_000, limit=100)
    assert cut is not None and cut.startswith("x" * 100)
    assert cut.endswith("… [9900 more characters cut]")
