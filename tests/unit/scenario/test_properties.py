"""Properties over generated inputs: the loader never tracebacks, normalization is stable."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.analysis.normalize import normalize
from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario

OPS = ["compile", "serialize", "deserialize", "instantiate", "call", "close", "restart"]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
STEPS = st.lists(
    st.one_of(
        st.sampled_from(OPS),
        st.builds(lambda op, body: {op: body}, st.sampled_from(OPS), VALUES),
        VALUES,
    ),
    max_size=6,
)
DOCUMENTS = st.fixed_dictionaries(
    {"steps": STEPS},
    optional={
        "name": st.text(max_size=10),
        "tags": VALUES,
        "params": VALUES,
        "engine": VALUES,
        "upgrade": VALUES,
        "timeout": VALUES,
        "known": VALUES,
        "producer": VALUES,
    },
)
# CI tries a few hundred documents; `tox -e fuzz` sets 10000 and more.
FUZZ = settings(
    max_examples=int(os.environ.get("WASM_COMPAT_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(DOCUMENTS)
def test_any_document_loads_or_fails_with_one_line(tmp_path: Path, document: dict) -> None:
    path = tmp_path / "generated.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert "\n" not in str(exc)
        assert str(exc).startswith(str(path))


@given(st.text(max_size=300))
def test_normalizing_twice_changes_nothing(message: str) -> None:
    once = normalize(message)
    assert normalize(once) == once


@given(st.integers(0, 2**64), st.sampled_from(["/tmp/wasm-compat-abc123/x.cwasm", "/a/b/c"]))
def test_addresses_and_paths_do_not_make_messages_differ(address: int, path: str) -> None:
    a = normalize(f"fault at 0x{address:x} reading {path}")
    assert a == normalize(f"fault at 0x{address + 1:x} reading /other/dir/file")


@FUZZ
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_any_bytes_load_or_fail_with_one_line(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "generated.yaml"
    path.write_bytes(raw)
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert "\n" not in str(exc)
        assert str(exc).startswith(str(path))
