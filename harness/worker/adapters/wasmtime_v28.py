"""wasmtime-py 0.28 and later: the store-passing API.

Modules belong to an Engine; every object that holds wasm state lives in a Store that is passed
to each call (`instance.exports(store)[name](store, *args)`), host functions and WASI come
through a Linker. Differences within the era (fuel, WASI exit, explicit close, feature flags)
are probed with hasattr here rather than by version number.
"""

from __future__ import annotations

from typing import Any

import wasmtime

from harness.worker.adapters import wasmtime_common as common
from harness.worker.adapters.base import Unsupported
from harness.worker.hostlib import Imports


class StorePassing:
    """0.28+: a Store is passed to every call that reaches wasm state."""

    def new_store(self, engine: Any, fuel: int | None, version: str) -> Any:
        store = wasmtime.Store(engine)
        if fuel is not None:
            if hasattr(store, "set_fuel"):
                store.set_fuel(fuel)
            elif hasattr(store, "add_fuel"):
                store.add_fuel(fuel)
            else:
                raise Unsupported(f"wasmtime {version} has no fuel on Store")
        return store

    def instantiate(
        self, store: Any, module: Any, imports: Imports, wasi: dict[str, Any] | None
    ) -> Any:
        linker = wasmtime.Linker(store.engine)
        if wasi is not None:
            store.set_wasi(common.wasi_config(wasi))
            linker.define_wasi()
        for module_name, functions in imports.items():
            for name, spec in functions.items():
                ty = common.func_type(spec)
                fn = spec.body
                if hasattr(linker, "define_func"):
                    linker.define_func(module_name, name, ty, fn)
                else:
                    linker.define(module_name, name, wasmtime.Func(store, ty, fn))
        return linker.instantiate(store, module)

    def exports(self, store: Any, instance: Any) -> Any:
        return instance.exports(store)

    def func_type(self, store: Any, func: Any) -> Any:
        return func.type(store)

    def passed_store(self, other: Any, version: str) -> Any:
        return other  # wasmtime itself checks the store: another one aborts the process

    def invoke(self, store: Any, func: Any, args: list[Any]) -> Any:
        return func(store, *args)

    def fuel_left(self, store: Any) -> int | None:
        if hasattr(store, "get_fuel"):
            try:
                return int(store.get_fuel())
            except Exception:
                return None
        return None


class WasmtimeV28(common.Wasmtime):
    era = "wasmtime_v28"
    api = StorePassing()
