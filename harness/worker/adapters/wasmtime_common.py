"""What every wasmtime-py era does the same: the adapter (`Wasmtime`: engine config, compile,
serialize and deserialize, call, close, classify) and its pieces (Config settings, WASI config,
value and error mapping).

Where the eras differ, in how wasm state is reached through a Store, an era object (`StoreApi`)
is composed in: each era's module holds one and names the adapter after the era's first release.
Neither era is written as a change to the other.
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable, ClassVar, Protocol

import wasmtime

from harness.model.step import ErrorFields
from harness.worker.adapters.base import (
    Adapter,
    Unsupported,
    Value,
    coerce,
    trap_code_from_message,
    typed,
)
from harness.worker.hostlib import HOST_TRAP_MESSAGE, HostFunc, HostTrap, Imports
from harness.worker.segment import work_path


class StoreApi(Protocol):
    """The places where wasmtime-py's eras differ: how a Store is made and fuelled, how an
    instance is linked, and whether a store is passed to reach exports, types and calls."""

    def new_store(self, engine: Any, fuel: int | None, version: str) -> Any: ...

    def instantiate(
        self, store: Any, module: Any, imports: Imports, wasi: dict[str, Any] | None
    ) -> Any: ...

    def exports(self, store: Any, instance: Any) -> Any: ...

    def func_type(self, store: Any, func: Any) -> Any: ...

    def passed_store(self, other: Any, version: str) -> Any: ...

    def invoke(self, store: Any, func: Any, args: list[Any]) -> Any: ...

    def fuel_left(self, store: Any) -> int | None: ...


class Wasmtime(Adapter):
    """A wasmtime-py release: the operations every era does alike, and its era's `api` for the
    rest."""

    family = "wasmtime"
    api: ClassVar[StoreApi]

    def new_engine(self, settings: dict[str, Any], workdir: str) -> Any:
        config = wasmtime.Config()
        configure(config, settings, workdir, self.version, self.adapted)
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
        return self.api.new_store(engine, fuel, self.version)

    def instantiate(
        self, store: Any, module: Any, imports: Imports, wasi: dict[str, Any] | None
    ) -> Any:
        return self.api.instantiate(store, module, imports, wasi)

    def call(
        self, store: Any, instance: Any, export: str, args: list[Value], other: Any = None
    ) -> list[Value]:
        try:
            func = self.api.exports(store, instance)[export]
        except (KeyError, IndexError):
            raise LookupError(f"instance has no export {export!r}") from None
        if not isinstance(func, wasmtime.Func):
            raise TypeError(f"export {export!r} is not a function")
        if other is not None:  # the export found as the application finds it, then passed on
            store = self.api.passed_store(other, self.version)
        ty = self.api.func_type(store, func)
        params = [str(p) for p in ty.params]
        if len(params) != len(args):
            raise TypeError(f"{export} takes {len(params)} argument(s), {len(args)} given")
        raw = self.api.invoke(store, func, [coerce(k, a) for k, a in zip(params, args)])
        return results([str(r) for r in ty.results], raw)

    def fuel_left(self, store: Any) -> int | None:
        return self.api.fuel_left(store)

    def close(self, handle: Any) -> str:
        if hasattr(handle, "close"):
            handle.close()
            return "close()"
        return "dropped"  # a release without close() frees it when the last reference goes

    def classify(self, exc: BaseException) -> ErrorFields:
        return classify(exc)


_EXIT_MESSAGE = re.compile(r"[Ee]xited with i32 exit status (-?\d+)")

VALTYPES = {"i32": "i32", "i64": "i64", "f32": "f32", "f64": "f64"}


Adapted = Callable[[str], None]  # records what an adapter had to bridge (Adapter.adapted)


def configure(
    config: Any, settings: dict[str, Any], workdir: str, version: str, adapted: Adapted
) -> None:
    cls = type(config)
    cache = settings.get("cache")
    if cache is True:
        config.cache = True
    elif isinstance(cache, dict) and "config" in cache:
        config.cache = _write_cache_config(workdir, cache["config"].replace(WORKDIR_REF, workdir))
    elif isinstance(cache, dict):
        # the segment's rule, before anything is made: the directory stays in the work dir
        _set_cache_dir(config, work_path(workdir, cache["directory"]), workdir, adapted)
    for feature, enabled in sorted((settings.get("features") or {}).items()):
        attr = "wasm_" + feature
        if not hasattr(cls, attr):
            raise Unsupported(f"wasmtime {version} has no Config.{attr}")
        setattr(config, attr, bool(enabled))
        if feature == "threads" and enabled and hasattr(cls, "shared_memory"):
            config.shared_memory = True  # 40+: threads compile without it but cannot instantiate
    if settings.get("fuel") is not None:
        if not hasattr(cls, "consume_fuel"):
            raise Unsupported(f"wasmtime {version} has no Config.consume_fuel")
        config.consume_fuel = True
    compiler = settings.get("compiler")
    if compiler in ("cranelift", "winch"):
        if not hasattr(cls, "strategy"):
            raise Unsupported(f"wasmtime {version} has no Config.strategy")
        config.strategy = compiler
    elif compiler not in (None, "auto"):
        raise Unsupported(f"wasmtime has no {compiler} compiler")
    apply_settings(config, settings.get("settings") or {}, version)


def apply_settings(config: Any, named: dict[str, Any], version: str) -> None:
    """Each setting as the application writes it: `config.NAME = VALUE`, verbatim and last (so
    it wins over what the other keys set). Only a property of this release's Config is one:
    assigning any other name would silently add an attribute that the runtime never reads."""
    cls = type(config)
    for name, value in named.items():
        if not isinstance(getattr(cls, name, None), property):
            raise Unsupported(f"wasmtime {version} has no setting Config.{name}")
        setattr(config, name, value)  # a value it rejects raises the runtime's own error


WORKDIR_REF = "${workdir}"


def _write_cache_config(workdir: str, text: str) -> str:
    path = os.path.join(workdir, "wasmtime-cache.toml")
    with open(path, "w") as f:
        f.write(text)
    return path


def _set_cache_dir(config: Any, directory: str, workdir: str, adapted: Adapted) -> None:
    """Write a cache config naming the directory, as releases up to 32.0.0 require it (with
    `enabled = true`); a release that rejects `enabled` gets it without, and the step says so.
    A scenario that states its config text (`cache: {config: ...}`) gets exactly that instead."""
    os.makedirs(directory, exist_ok=True)
    quoted = directory.replace("\\", "\\\\").replace('"', '\\"')
    path = _write_cache_config(workdir, f'[cache]\nenabled = true\ndirectory = "{quoted}"\n')
    try:
        config.cache = path
    except wasmtime.WasmtimeError as exc:
        if "enabled" not in _message(exc):
            raise
        config.cache = _write_cache_config(workdir, f'[cache]\ndirectory = "{quoted}"\n')
        adapted("cache config written without `enabled = true`, which this release rejects")


def wasi_config(spec: dict[str, Any]) -> Any:
    cfg = wasmtime.WasiConfig()
    cfg.argv = ["module", *spec.get("args", [])]
    cfg.env = sorted(spec.get("env", {}).items())
    cfg.stdout_file = spec["stdout"]
    return cfg


def valtype(kind: str) -> Any:
    return getattr(wasmtime.ValType, VALTYPES[kind])()


def func_type(spec: HostFunc) -> Any:
    return wasmtime.FuncType([valtype(k) for k in spec.params], [valtype(k) for k in spec.results])


def results(kinds: list[str], raw: Any) -> list[Value]:
    if not kinds:
        return []
    values = list(raw) if len(kinds) > 1 else [raw]
    return [typed(k, _unwrap(v)) for k, v in zip(kinds, values)]


def _unwrap(value: Any) -> Any:
    return getattr(value, "value", value)


def _message(exc: BaseException) -> str:
    """str() of some errors raises (3.0-5.x WasmtimeError, 6.0-11.x ExitTrap): fall back."""
    try:
        return str(exc)
    except Exception:
        return str(getattr(exc, "message", "") or repr(exc.args))


def classify(exc: BaseException) -> ErrorFields:
    message = _message(exc)
    out: ErrorFields = {"outcome": "error", "error_type": type(exc).__name__, "message": message}
    exit_trap = getattr(wasmtime, "ExitTrap", None)
    if exit_trap is not None and isinstance(exc, exit_trap):
        out.update({"error_kind": "exit", "exit_code": int(exc.code)})
        return out
    if isinstance(exc, HostTrap):
        out.update({"error_kind": "trap", "trap_code": "host"})
        return out
    exit_match = _EXIT_MESSAGE.search(message)
    if exit_match and isinstance(exc, (wasmtime.Trap, wasmtime.WasmtimeError)):
        out.update({"error_kind": "exit", "exit_code": int(exit_match.group(1))})
        return out
    if isinstance(exc, wasmtime.Trap):
        api = api_trap_code(exc)
        out.update({"error_kind": "trap", "trap_code": trap_code(exc, message)})
        if api is not None:
            out["trap_code_api"] = api
        return out
    out["error_kind"] = "runtime"
    return out


_NO_ATTRIBUTE = object()


def api_trap_code(exc: BaseException) -> str | None:
    """`Trap.trap_code` as an application reading it sees it: the code's name, `None`, or
    what reading it raised (4.0-44.x raise ValueError for codes their enum lacks, fuel among
    them). None where the release has no such attribute."""
    try:
        code = getattr(exc, "trap_code", _NO_ATTRIBUTE)
    except Exception as failed:
        return f"raises {type(failed).__name__}: {failed}"
    if code is _NO_ATTRIBUTE:
        return None
    return "None" if code is None else str(getattr(code, "name", None) or code).lower()


def trap_code(exc: BaseException, message: str) -> str | None:
    """The trap code compared across releases and families: the API's where it gives one,
    else the one its message names (the API's own answer is kept beside it)."""
    try:
        code = getattr(exc, "trap_code", None)
    except ValueError:
        code = None
    if code is not None:
        name = getattr(code, "name", None)
        return str(name or code).lower()
    if HOST_TRAP_MESSAGE.search(message):
        return "host"
    return trap_code_from_message(message)
