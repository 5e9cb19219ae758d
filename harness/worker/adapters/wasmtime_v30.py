"""wasmtime-py 0.28 and later: the store-passing API (the era began at 0.28; named v30 earlier).

Modules belong to an Engine; every object that holds wasm state lives in a Store that is passed
to each call (`instance.exports(store)[name](store, *args)`), host functions and WASI come
through a Linker. Differences within the era (fuel, WASI exit, explicit close, feature flags)
are probed with hasattr here rather than by version number.
"""

from __future__ import annotations

from typing import Any

import wasmtime

from harness.worker.adapters import wasmtime_common as common
from harness.worker.adapters.base import Adapter, Unsupported, Value, coerce
from harness.worker.hostlib import MODULE as HOST_MODULE
from harness.worker.hostlib import HostLibrary


class WasmtimeV30(Adapter):
    family = "wasmtime"
    era = "wasmtime_v30"

    def new_engine(self, settings: dict[str, Any], workdir: str) -> Any:
        config = wasmtime.Config()
        common.configure(config, settings, workdir, self.version, self.adapted)
        return wasmtime.Engine(config)

    def compile(self, engine: Any, wasm: bytes) -> Any:
        return wasmtime.Module(engine, wasm)

    def serialize(self, module: Any) -> bytes:
        if not hasattr(module, "serialize"):
            raise Unsupported(f"wasmtime {self.version} has no Module.serialize")
        return bytes(module.serialize())

    def deserialize(self, engine: Any, data: bytes) -> Any:
        if not hasattr(wasmtime.Module, "deserialize"):
            raise Unsupported(f"wasmtime {self.version} has no Module.deserialize")
        return wasmtime.Module.deserialize(engine, data)

    def deserialize_file(self, engine: Any, path: str) -> Any:
        if not hasattr(wasmtime.Module, "deserialize_file"):
            raise Unsupported(f"wasmtime {self.version} has no Module.deserialize_file")
        return wasmtime.Module.deserialize_file(engine, path)

    def new_store(self, engine: Any, fuel: int | None, wasi: dict[str, Any] | None) -> Any:
        store = wasmtime.Store(engine)
        if fuel is not None:
            if hasattr(store, "set_fuel"):
                store.set_fuel(fuel)
            elif hasattr(store, "add_fuel"):
                store.add_fuel(fuel)
            else:
                raise Unsupported(f"wasmtime {self.version} has no fuel on Store")
        return store

    def instantiate(
        self, store: Any, module: Any, host: HostLibrary | None, wasi: dict[str, Any] | None
    ) -> Any:
        linker = wasmtime.Linker(store.engine)
        if wasi is not None:
            store.set_wasi(common.wasi_config(wasi))
            linker.define_wasi()
        if host is not None:
            for name, spec in host.functions.items():
                ty = common.func_type(spec)
                fn = spec.body
                if hasattr(linker, "define_func"):
                    linker.define_func(HOST_MODULE, name, ty, fn)
                else:
                    linker.define(HOST_MODULE, name, wasmtime.Func(store, ty, fn))
        return linker.instantiate(store, module)

    def call(self, store: Any, instance: Any, export: str, args: list[Value]) -> list[Value]:
        try:
            func = self._exports(store, instance)[export]
        except (KeyError, IndexError):
            raise LookupError(f"instance has no export {export!r}") from None
        if not isinstance(func, wasmtime.Func):
            raise TypeError(f"export {export!r} is not a function")
        ty = self._func_type(store, func)
        params = [str(p) for p in ty.params]
        if len(params) != len(args):
            raise TypeError(f"{export} takes {len(params)} argument(s), {len(args)} given")
        raw = self._invoke(store, func, [coerce(k, a) for k, a in zip(params, args)])
        return common.results([str(r) for r in ty.results], raw)

    # The three places where the store-passing API differs from the one before it.
    def _exports(self, store: Any, instance: Any) -> Any:
        return instance.exports(store)

    def _func_type(self, store: Any, func: Any) -> Any:
        return func.type(store)

    def _invoke(self, store: Any, func: Any, args: list[Any]) -> Any:
        return func(store, *args)

    def fuel_left(self, store: Any) -> int | None:
        if hasattr(store, "get_fuel"):
            try:
                return int(store.get_fuel())
            except Exception:
                return None
        return None

    def close(self, handle: Any) -> str:
        if hasattr(handle, "close"):
            handle.close()
            return "close()"
        return "dropped"

    def classify(self, exc: BaseException) -> dict[str, Any]:
        return common.classify(exc)
