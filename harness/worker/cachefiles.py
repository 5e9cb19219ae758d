"""A runtime's compilation-cache directory as files: its entries counted, and damaged the way a
scenario asks (`compile: {corrupt_cache: ...}`), as a full disk or a process killed mid-write
would leave them for the next compile to find.

An entry is a file the runtime stores a compiled module in, not its bookkeeping: hidden files,
wasmtime's `*.stats` and `.cleanup.wip-PID`, the `*.wip-atomic-write-*` files it renames into
place. Counting those would make a hit look like a miss, and damaging them is not the point.
"""

from __future__ import annotations

import os
from typing import Any

from harness.worker import corrupt


def entries(path: str) -> list[str]:
    """The cache entries under `path`, sorted (none when it does not exist)."""
    return sorted(
        os.path.join(root, name)
        for root, _, files in os.walk(path)
        for name in files
        if not name.startswith(".") and not name.endswith(".stats") and ".wip-" not in name
    )


def count(path: str) -> int:
    return len(entries(path))


def damage(path: str, spec: dict[str, Any]) -> int:
    """Apply `spec` (corrupt.apply's truncate, empty, flip; or `delete: true`) to every entry
    under `path`; the number of entries damaged. Raises corrupt.CorruptError when an entry is too
    short for a flip offset, before any entry is changed."""
    found = entries(path)
    if spec.get("delete"):
        for name in found:
            os.remove(name)
        return len(found)
    changed = []
    for name in found:
        with open(name, "rb") as f:
            changed.append((name, corrupt.apply(f.read(), spec)))
    for name, data in changed:
        with open(name, "wb") as f:
            f.write(data)
    return len(changed)
