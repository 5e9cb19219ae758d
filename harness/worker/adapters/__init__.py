"""Adapters hide each runtime's API eras behind one interface (see `base.Adapter`).

One adapter per era, named after the first release of that era, chosen here by version; feature
probes stay inside the adapter. Runs on Python 3.9 with only the stdlib and the runtime.
"""

from __future__ import annotations

import importlib
from typing import Callable

from harness.worker.adapters.base import Adapter, RuntimeUnavailable, parse_version

# (family, first version of the era, "module:Class"), newest era first within a family.
REGISTRY: list[tuple[str, tuple[int, ...], str]] = [
    ("wasmtime", (0, 28), "harness.worker.adapters.wasmtime_v28:WasmtimeV28"),
    ("wasmtime", (0, 20), "harness.worker.adapters.wasmtime_v20:WasmtimeV20"),
    ("wasmer", (1, 0), "harness.worker.adapters.wasmer_v1:WasmerV1"),
]

FAMILIES = ("wasmtime", "wasmer")


def installed_version(family: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(family)
    except metadata.PackageNotFoundError:
        return None


def detect(family: str | None = None, variant: str = "") -> Adapter:
    """The adapter for the runtime installed in this interpreter (the first family found).

    `variant` selects a configuration of that runtime (wasmer: `ENGINE-COMPILER`); an adapter
    that cannot honour it raises RuntimeUnavailable.
    """
    tried = []
    for name in [family] if family else list(FAMILIES):
        version = installed_version(name)
        if version is None:
            tried.append(f"{name} is not installed")
            continue
        return adapter_for(name, version, variant)
    raise RuntimeUnavailable("; ".join(tried))


def adapter_for(family: str, version: str, variant: str = "") -> Adapter:
    wanted = parse_version(version)
    for fam, first, target in REGISTRY:
        if fam == family and wanted >= first:
            factory = _load(target)
            adapter = factory(version)
            adapter.select_variant(variant)
            return adapter
    raise RuntimeUnavailable(f"no adapter for {family} {version}")


def _load(target: str) -> Callable[[str], Adapter]:
    module_name, cls = target.split(":")
    loaded: Callable[[str], Adapter] = getattr(importlib.import_module(module_name), cls)
    return loaded
