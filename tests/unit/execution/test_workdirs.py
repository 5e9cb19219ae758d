"""Work dirs are unique for any case id: a cut or cleaned name carries a hash of the whole."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from harness.execution.run import workdir_for


def case(case_id: str) -> Any:
    return SimpleNamespace(id=case_id)


def test_long_case_ids_that_share_their_first_120_characters_get_different_dirs() -> None:
    common = "s[" + "p=" + "x" * 200
    a, b = (workdir_for(Path("out"), case(common + end), "wasmtime-50.0.1") for end in "ab")
    assert a != b
    assert len(a.name) <= 120 and len(b.name) <= 120


def test_ids_that_clean_to_the_same_name_get_different_dirs() -> None:
    a = workdir_for(Path("out"), case("s[p=a b]"), "wasmtime-50.0.1")
    b = workdir_for(Path("out"), case("s[p=a_b]"), "wasmtime-50.0.1")
    assert a != b


def test_a_safe_short_id_is_its_own_name() -> None:
    assert workdir_for(Path("out"), case("traps"), "wasmtime-50.0.1") == Path(
        "out/work/wasmtime-50.0.1/traps"
    )
    upgrade = workdir_for(Path("out"), case("traps"), "wasmtime-3.0.0→wasmtime-50.0.1")
    assert upgrade.parent.name.startswith("wasmtime-3.0.0__wasmtime-50.0.1-")
