"""The result cache's entries: kept whole, and a damaged one is a miss, never an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.reuse.store import EntryStore, default_root, size_on_disk

KEY = "ab" + "0" * 62


@pytest.fixture
def store(tmp_path: Path) -> EntryStore:
    return EntryStore(tmp_path, "runs")


def test_an_entry_comes_back_as_it_was_kept(store: EntryStore, tmp_path: Path) -> None:
    assert store.get(KEY) is None
    assert store.put(KEY, {"outcome": "ok"}, {"scenario": "digest"})
    entry = store.get(KEY)
    assert entry is not None and entry["body"] == {"outcome": "ok"} and entry["stored"]
    assert store.path(KEY).parent.name == "ab"
    assert size_on_disk(tmp_path) == (1, store.path(KEY).stat().st_size)
    store.drop(KEY)
    assert store.get(KEY) is None and size_on_disk(tmp_path) == (0, 0)


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"{not json",
        b"[1, 2]",
        json.dumps({"format": 99, "key": KEY, "body": {}}).encode(),
        json.dumps({"format": 1, "key": "another", "body": {}}).encode(),
        json.dumps({"format": 1, "key": KEY, "body": "text"}).encode(),
        b"\xff\xfe\x00",
    ],
    ids=["empty", "torn", "a list", "newer format", "another key", "no body", "not text"],
)
def test_a_damaged_entry_is_a_miss(store: EntryStore, damage: bytes) -> None:
    store.put(KEY, {"outcome": "ok"})
    full = store.path(KEY).read_bytes()
    store.path(KEY).write_bytes(damage)
    assert store.get(KEY) is None
    store.path(KEY).write_bytes(full[: len(full) // 2])  # cut short, as by a full disk
    assert store.get(KEY) is None
    assert store.put(KEY, {"outcome": "error"})  # the run that ran again replaces it
    entry = store.get(KEY)
    assert entry is not None and entry["body"] == {"outcome": "error"}


def test_a_folder_that_cannot_be_written_keeps_nothing(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    store = EntryStore(blocked, "runs")
    assert not store.put(KEY, {"outcome": "ok"})
    assert store.get(KEY) is None


def test_the_default_root_follows_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WASM_COMPAT_RESULTS_CACHE", str(tmp_path / "here"))
    assert default_root() == tmp_path / "here"
    monkeypatch.delenv("WASM_COMPAT_RESULTS_CACHE")
    monkeypatch.setenv("WASM_COMPAT_CACHE", str(tmp_path / "cache"))
    assert default_root() == tmp_path / "cache" / "results"
