"""A cache directory's entries, and the damage `corrupt_cache` does to them (the Python worker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.worker import cachefiles
from harness.worker.corrupt import CorruptError


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    (tmp_path / "ab").mkdir()
    (tmp_path / "ab" / "entry1").write_bytes(b"0123456789")
    (tmp_path / "entry2").write_bytes(b"abcdef")
    (tmp_path / ".cleanup.wip-7").write_bytes(b"x")
    (tmp_path / "entry2.stats").write_bytes(b"y")
    return tmp_path


def test_only_entries_count(cache: Path) -> None:
    assert cachefiles.entries(str(cache)) == [str(cache / "ab" / "entry1"), str(cache / "entry2")]
    assert cachefiles.count(str(cache / "absent")) == 0


@pytest.mark.parametrize(
    ("spec", "entry1", "entry2"),
    [
        ({"truncate": 4}, b"0123", b"abcd"),
        ({"truncate": -2}, b"01234567", b"abcd"),
        ({"empty": True}, b"", b""),
        ({"flip": [1]}, b"0\xce23456789", b"a\x9dcdef"),
    ],
)
def test_every_entry_is_damaged_and_nothing_else(
    cache: Path, spec: dict[str, object], entry1: bytes, entry2: bytes
) -> None:
    assert cachefiles.damage(str(cache), spec) == 2
    assert (cache / "ab" / "entry1").read_bytes() == entry1
    assert (cache / "entry2").read_bytes() == entry2
    assert (cache / "entry2.stats").read_bytes() == b"y"


def test_delete_removes_the_entries(cache: Path) -> None:
    assert cachefiles.damage(str(cache), {"delete": True}) == 2
    assert cachefiles.count(str(cache)) == 0 and (cache / ".cleanup.wip-7").exists()


def test_a_flip_past_an_entrys_end_changes_nothing(cache: Path) -> None:
    with pytest.raises(CorruptError, match="past the end"):
        cachefiles.damage(str(cache), {"flip": [8]})
    assert (cache / "ab" / "entry1").read_bytes() == b"0123456789"
