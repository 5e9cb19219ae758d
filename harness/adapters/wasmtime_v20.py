"""wasmtime-py 0.20 to 0.27: the store-bound API before stores were passed to every call.

Linkers, host functions and WASI instances are bound to one Store at construction; exports are a
property and functions are called without a store. Nothing has an explicit close(): objects are
freed when the last reference goes, so close means dropping ours.
"""

from __future__ import annotations

from typing import Any

import wasmtime

from harness.adapters import wasmtime_common as common
from harness.adapters.base import Value, coerce
from harness.adapters.wasmtime_v30 import WasmtimeV30
from harness.worker.hostlib import MODULE as HOST_MODULE
from harness.worker.hostlib import HostLibrary

WASI_MODULE = "wasi_snapshot_preview1"


class WasmtimeV20(WasmtimeV30):
    era = "wasmtime_v20"

    def new_store(self, engine: Any, fuel: int | None, wasi: dict[str, Any] | None) -> Any:
        store = wasmtime.Store(engine)
        if fuel is not None:
            store.add_fuel(fuel)  # configure() already refused fuel where Config cannot meter it
        return store

    def instantiate(
        self, store: Any, module: Any, host: HostLibrary | None, wasi: dict[str, Any] | None
    ) -> Any:
        linker = wasmtime.Linker(store)
        if wasi is not None:
            linker.define_wasi(wasmtime.WasiInstance(store, WASI_MODULE, common.wasi_config(wasi)))
        if host is not None:
            for name, spec in host.functions.items():
                func = wasmtime.Func(store, common.func_type(spec), common.host_callable(spec))
                linker.define(HOST_MODULE, name, func)
        return linker.instantiate(module)

    def call(self, store: Any, instance: Any, export: str, args: list[Value]) -> list[Value]:
        func = instance.exports[export] if _has_export(instance, export) else None
        if func is None:
            raise LookupError(f"instance has no export {export!r}")
        if not isinstance(func, wasmtime.Func):
            raise TypeError(f"export {export!r} is not a function")
        ty = func.type
        params = [str(p) for p in ty.params]
        if len(params) != len(args):
            raise TypeError(f"{export} takes {len(params)} argument(s), {len(args)} given")
        raw = func(*[coerce(k, a) for k, a in zip(params, args)])
        return common.results([str(r) for r in ty.results], raw)

    def fuel_left(self, store: Any) -> int | None:
        return None


def _has_export(instance: Any, name: str) -> bool:
    try:
        instance.exports[name]
    except (KeyError, IndexError):
        return False
    return True
