"""A damaged compilation cache (protocol 6): a compile's `corrupt_cache` damages every entry of
the engine's cache directory after the compile, and says how many in `cache_corrupted`; the next
process's compile meets the damaged entries.

What a runtime then does is its own behaviour (the bundled scenario cache_entry_corrupted states
what a robust one must do); here a worker is held to damaging exactly the entries it counts and
to reporting the next compile as a result, never a broken stream.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import READY_S, STEP_S, Spawn
from steps import Step, compile_, expect, step
from wire import Message, Worker, by_index, run_checked

from harness.worker import cachefiles

pytestmark = pytest.mark.conformance

CACHE = {"cache": {"directory": "cache"}}


def damaging(index: int, spec: Step) -> Step:
    made = compile_(index, "add", engine=CACHE)
    made["args"]["corrupt_cache"] = spec
    return made


def first_compile(spawn: Spawn, fixtures: dict[str, str], spec: Step) -> Message:
    worker = spawn()
    worker.handshake(READY_S)
    result = by_index(run_checked(worker, [damaging(0, spec)], fixtures, STEP_S))[0]
    worker.send({"name": "shutdown"})
    assert worker.wait(STEP_S) == 0
    return result


@pytest.mark.parametrize(("spec", "size"), [({"truncate": 10}, 10), ({"empty": True}, 0)])
def test_every_entry_is_damaged_and_the_next_compile_meets_it(
    spawn: Spawn,
    workdir: Path,
    fixtures: dict[str, str],
    lacks: frozenset[str],
    spec: Step,
    size: int,
) -> None:
    if "cache" in lacks:
        pytest.skip("the runtime has no compilation cache directory")
    result = first_compile(spawn, fixtures, spec)
    detail = result["detail"]
    assert result["outcome"] == "ok" and result["met"], result
    entries = cachefiles.entries(str(workdir / "cache"))
    assert detail["cache_corrupted"] == len(entries) == detail["cache_files_after"], detail
    assert all(Path(e).stat().st_size <= size for e in entries), entries

    again = spawn()
    again.handshake(READY_S)
    steps = [step(1, "compile", {"fixture": "add", "as": "m", "engine": CACHE}, expect("any"))]
    second = by_index(run_checked(again, steps, fixtures, STEP_S, index=1))[1]
    assert second["outcome"] in ("ok", "error"), second
    assert "cache_corrupted" not in (second.get("detail") or {})


def test_delete_removes_the_entries(
    spawn: Spawn, workdir: Path, fixtures: dict[str, str], lacks: frozenset[str]
) -> None:
    if "cache" in lacks:
        pytest.skip("the runtime has no compilation cache directory")
    result = first_compile(spawn, fixtures, {"delete": True})
    assert result["outcome"] == "ok", result
    assert result["detail"]["cache_corrupted"] == result["detail"]["cache_files_after"]
    assert cachefiles.count(str(workdir / "cache")) == 0


def test_a_flip_past_an_entrys_end_is_unsupported(
    ready: tuple[Worker, Message], workdir: Path, fixtures: dict[str, str], lacks: frozenset[str]
) -> None:
    if "cache" in lacks:
        pytest.skip("the runtime has no compilation cache directory")
    worker, _ = ready
    made = damaging(0, {"flip": [2**31]})
    made["expect"] = expect("any")
    result = by_index(run_checked(worker, [made], fixtures, STEP_S))[0]
    if not cachefiles.count(str(workdir / "cache")):  # nothing cached: nothing to flip
        assert result["outcome"] == "ok" and result["detail"]["cache_corrupted"] == 0, result
        return
    assert result["outcome"] == "unsupported" and "past the end" in result["message"], result
