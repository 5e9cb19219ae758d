from __future__ import annotations

from harness.normalize import normalize


def test_volatile_parts_are_replaced() -> None:
    a = normalize(
        "failed at 0x7f12ab in /tmp/wasm-compat-x1y2/work/m.cwasm after 12ms (wasmtime 25.0.1)"
    )
    b = normalize("failed at 0x55aa00 in /home/ci/run/work/m.cwasm after 3.5s (wasmtime 33.0.0)")
    assert a == b == "failed at 0x<addr> in <path> after <duration> (wasmtime <version>)"


def test_backtraces_are_dropped_but_the_cause_stays() -> None:
    message = (
        "error while executing at wasm backtrace:\n    0:   0x2a - <unknown>!<wasm function 0>\n"
    )
    assert normalize(message) == "error while executing at"
    assert normalize("unknown import: `host::f`\n\nCaused by:\n   x") == (
        "unknown import: `host::f` Caused by: x"
    )
    assert normalize(None) is None


def test_huge_messages_are_cut_with_a_marker() -> None:
    from harness.runner import truncate

    assert truncate("short") == "short"
    cut = truncate("x" * 10_000, limit=100)
    assert cut is not None and cut.startswith("x" * 100)
    assert cut.endswith("… [9900 more characters cut]")
