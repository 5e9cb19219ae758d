"""wasmtime-py 0.20 to 0.27: the store-bound API before stores were passed to every call.

Linkers, host functions and WASI instances are bound to one Store at construction; exports are a
property and functions are called without a store. Nothing has an explicit close(): objects are
freed when the last reference goes, so close means dropping ours.
"""

from __future__ import annotations

from typing import Any

import wasmtime

from harness.worker.adapters import wasmtime_common as common
from harness.worker.adapters.base import Unsupported
from harness.worker.hostlib import Imports

WASI_MODULE = "wasi_snapshot_preview1"


class StoreBound:
    """0.20-0.27: what holds wasm state is bound to its Store when it is made."""

    def new_store(self, engine: Any, fuel: int | None, version: str) -> Any:
        store = wasmtime.Store(engine)
        if fuel is not None:
            store.add_fuel(fuel)  # configure() already refused fuel where Config cannot meter it
        return store

    def instantiate(
        self, store: Any, module: Any, imports: Imports, wasi: dict[str, Any] | None
    ) -> Any:
        linker = wasmtime.Linker(store)
        if wasi is not None:
            linker.define_wasi(wasmtime.WasiInstance(store, WASI_MODULE, common.wasi_config(wasi)))
        for module_name, functions in imports.items():
            for name, spec in functions.items():
                func = wasmtime.Func(store, common.func_type(spec), spec.body)
                linker.define(module_name, name, func)
        return linker.instantiate(module)

    def exports(self, store: Any, instance: Any) -> Any:
        return instance.exports

    def func_type(self, store: Any, func: Any) -> Any:
        return func.type

    def passed_store(self, other: Any, version: str) -> Any:
        raise Unsupported(
            f"wasmtime {version} calls a function with no store: it is bound to its Store when "
            "made (0.20-0.27), so no other store can be passed"
        )

    def invoke(self, store: Any, func: Any, args: list[Any]) -> Any:
        return func(*args)

    def fuel_left(self, store: Any) -> int | None:
        return None  # the era has no way to read the fuel left


class WasmtimeV20(common.Wasmtime):
    era = "wasmtime_v20"
    api = StoreBound()
