"""Entries kept by key in a directory: one JSON file each, written whole or not at all.

    DIR/runs/ab/abcdef….json       a run, with the inputs it was kept under
    DIR/runtimes/ab/abcdef….json   a runtime's probe

A file that cannot be read, is not JSON, has another format or another key is a miss, never an
error: the run it stood for runs again and its result replaces the file. Writers in parallel
(threads, or shards sharing one cache) each write a file of their own and rename it into place.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import threading
from pathlib import Path
from typing import Any

from harness.paths import cache_dir

FORMAT = 1
KINDS = ("runs", "runtimes")
ROOT_ENV = "WASM_COMPAT_RESULTS_CACHE"  # where it is, when not under the cache directory


def default_root() -> Path:
    """$WASM_COMPAT_RESULTS_CACHE, else `results/` in wasm-compat's cache directory."""
    named = os.environ.get(ROOT_ENV)
    return Path(named).absolute() if named else cache_dir() / "results"


class EntryStore:
    """One kind of entry (`runs` or `runtimes`) under a cache directory."""

    def __init__(self, root: Path, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown kind of entry {kind!r}")
        self.folder = root / kind
        self._lock = threading.Lock()
        self._serial = 0

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The entry's body and when it was stored, or None: absent, damaged or not this key's."""
        try:
            entry = json.loads(self.path(key).read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("format") != FORMAT:
            return None
        body = entry.get("body")
        if entry.get("key") != key or not isinstance(body, dict):
            return None
        stored = entry.get("stored")
        return {"body": body, "stored": stored if isinstance(stored, str) else ""}

    def put(self, key: str, body: dict[str, Any], inputs: dict[str, Any] | None = None) -> bool:
        """Keep `body` under `key`; False (and nothing left behind) when the disk refuses."""
        entry = {
            "format": FORMAT,
            "key": key,
            "stored": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "inputs": inputs,
            "body": body,
        }
        target = self.path(key)
        with self._lock:
            self._serial += 1
            tmp = target.with_name(f".{key}.{os.getpid()}.{threading.get_ident()}.{self._serial}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(entry, sort_keys=True, default=str, separators=(",", ":")))
            tmp.replace(target)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            return False
        return True

    def drop(self, key: str) -> None:
        with contextlib.suppress(OSError):
            self.path(key).unlink(missing_ok=True)


def size_on_disk(root: Path) -> tuple[int, int]:
    """Entries and bytes under a cache directory."""
    count = total = 0
    for kind in KINDS:
        for path in (root / kind).glob("*/*.json"):
            try:
                total += path.stat().st_size
            except OSError:
                continue
            count += 1
    return count, total
