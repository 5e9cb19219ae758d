"""wasmer-python 1.0 and 1.1: an engine class with a compiler from a separate package.

The variant `ENGINE-COMPILER` picks a class of `wasmer.engine` (1.0: jit, native; 1.1: universal,
dylib, with jit and native kept as aliases of them) and the compiler package
`wasmer-compiler-<name>` of the same release. Everything is compiled against a `wasmer.Store`
built from that pair; that Store is the scenario's engine.

Where the API differs from wasmtime's:
- A wasmer 1.x Store holds only the engine: instances own their memories and tables, and no
  call takes a store. A scenario store is the engine's Store; closing it drops our reference.
- Nothing has close(): objects are freed when the last reference goes, so close means dropping
  ours (as on wasmtime before 18), and a later use of it is `unsupported`.
- No fuel metering, no compilation cache, no switch for wasm features, no deserialize_file,
  no engine settings by name (a compiler class takes no options, a Target only cross-compiles):
  those steps are `unsupported`.
- WASI writes to the process's fd 1; while an instance's code runs, fd 1 points at its stdout
  file (the protocol has its own fd).
- The native and dylib engines write temp files; TMPDIR points into the work dir.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any, NamedTuple

import wasmer

from harness.model import variants
from harness.model.step import ErrorFields
from harness.worker.adapters import wasmer_common as common
from harness.worker.adapters.base import (
    Adapter,
    RuntimeUnavailable,
    Unsupported,
    Value,
    coerce,
    typed,
)
from harness.worker.hostlib import Imports

VALTYPES = ("i32", "i64", "f32", "f64", "v128")
PROBE_TIMEOUT_S = 120


class Instance(NamedTuple):
    handle: Any  # wasmer.Instance
    stdout: str | None  # the WASI stdout file, when the instance has WASI


class WasmerV1(Adapter):
    family = "wasmer"
    era = "wasmer_v1"

    def __init__(self, version: str) -> None:
        super().__init__(version)
        self.engine_name = ""
        self.compiler_name = ""
        self._compilers: dict[str, Any] = {}

    # -- variant -----------------------------------------------------------------------------
    def select_variant(self, variant: str) -> None:
        if variant:
            engine, compiler = common.parse_variant(variant)
            self._check_engine(engine)
            self._compiler(compiler)
        else:
            engine = next(e for e in variants.WASMER_DEFAULT_ENGINES if self._has_engine(e))
            compiler = self._default_compiler()
        self.engine_name, self.compiler_name = engine, compiler
        self.variant = f"{engine}-{compiler}"

    def _has_engine(self, engine: str) -> bool:
        return hasattr(wasmer.engine, variants.WASMER_ENGINE_CLASSES[engine])

    def _check_engine(self, engine: str) -> None:
        if not self._has_engine(engine):
            known = [e for e in variants.WASMER_ENGINE_CLASSES if self._has_engine(e)]
            raise RuntimeUnavailable(
                f"wasmer {self.version} has no {engine} engine (it has: {', '.join(known)})"
            )

    def _default_compiler(self) -> str:
        reasons = []
        for name in variants.WASMER_COMPILERS:
            try:
                self._compiler(name)
            except RuntimeUnavailable as exc:
                reasons.append(str(exc))
                continue
            return name
        raise RuntimeUnavailable("no usable wasmer compiler: " + "; ".join(reasons))

    def _compiler(self, name: str) -> Any:
        """The `Compiler` class of a compiler package, or RuntimeUnavailable saying why not."""
        if name not in self._compilers:
            module = common.compiler_module(name)
            if importlib.util.find_spec(module) is None:
                raise RuntimeUnavailable(
                    f"the {name} compiler is not installed "
                    f"(pip install {variants.wasmer_compiler_package(name)}=={self.version})"
                )
            _probe_import(module)
            try:
                self._compilers[name] = importlib.import_module(module).Compiler
            except (ImportError, AttributeError) as exc:
                raise RuntimeUnavailable(f"{module} cannot be imported: {exc}") from None
        return self._compilers[name]

    # -- engine, modules ---------------------------------------------------------------------
    def new_engine(self, settings: dict[str, Any], workdir: str) -> Any:
        if settings.get("cache"):
            raise Unsupported(f"wasmer-python {self.version} has no compilation cache")
        if settings.get("features"):
            raise Unsupported(
                f"wasmer-python {self.version} cannot switch wasm features "
                "(every Store gets the release's default set)"
            )
        if settings.get("fuel") is not None:
            raise Unsupported(f"wasmer-python {self.version} has no fuel metering")
        if settings.get("settings"):
            raise Unsupported(
                f"wasmer-python {self.version} has no engine setting "
                f"{', '.join(sorted(settings['settings']))}: an engine is only "
                "Store(engine.CLASS(Compiler)), its class and compiler the variant"
            )
        compiler = settings.get("compiler") or "auto"
        if compiler == "auto":
            compiler = self.compiler_name
        elif compiler not in variants.WASMER_COMPILERS:
            raise Unsupported(f"wasmer has no {compiler} compiler")
        try:
            compiler_class = self._compiler(compiler)
        except RuntimeUnavailable as exc:
            raise Unsupported(str(exc)) from None
        _keep_temp_files_in(workdir)
        engine_class = getattr(wasmer.engine, variants.WASMER_ENGINE_CLASSES[self.engine_name])
        return wasmer.Store(engine_class(compiler_class))

    def compile(self, engine: Any, wasm: bytes) -> Any:
        return wasmer.Module(engine, wasm)

    def serialize(self, module: Any) -> bytes:
        return bytes(module.serialize())

    def deserialize(self, engine: Any, data: bytes) -> Any:
        return wasmer.Module.deserialize(engine, data)

    def deserialize_file(self, engine: Any, path: str) -> Any:
        raise Unsupported(
            f"wasmer-python {self.version} has no Module.deserialize_file, only deserialize(bytes)"
        )

    # -- stores, instances, calls ------------------------------------------------------------
    def new_store(self, engine: Any, fuel: int | None, wasi: dict[str, Any] | None) -> Any:
        if fuel is not None:
            raise Unsupported(f"wasmer-python {self.version} has no fuel metering")
        return engine  # a wasmer 1.x Store is only its engine; instances hold their own state

    def instantiate(
        self, store: Any, module: Any, imports: Imports, wasi: dict[str, Any] | None
    ) -> Any:
        linked = wasmer.ImportObject()
        stdout = None
        if wasi is not None:
            linked = _wasi_imports(store, module, wasi)
            stdout = wasi["stdout"]
            with open(stdout, "wb"):
                pass  # a fresh, empty stdout per instance
        for module_name, functions in imports.items():
            defined = {
                name: wasmer.Function(
                    store,
                    spec.body,
                    wasmer.FunctionType(
                        [_wasmer_type(k) for k in spec.params],
                        [_wasmer_type(k) for k in spec.results],
                    ),
                )
                for name, spec in functions.items()
            }
            linked.register(module_name, defined)
        with _stdout_to(stdout):
            return Instance(wasmer.Instance(module, linked), stdout)

    def call(
        self, store: Any, instance: Any, export: str, args: list[Value], other: Any = None
    ) -> list[Value]:
        if other is not None:
            raise Unsupported(
                f"wasmer-python {self.version} calls a function with no store: an instance "
                "holds its own state, so no other store can be passed"
            )
        try:
            func = getattr(instance.handle.exports, export)
        except LookupError:
            raise LookupError(f"instance has no export {export!r}") from None
        if not isinstance(func, wasmer.Function):
            raise TypeError(f"export {export!r} is not a function")
        params = [_kind(t) for t in func.type.params]
        kinds = [_kind(t) for t in func.type.results]
        if len(params) != len(args):
            raise TypeError(f"{export} takes {len(params)} argument(s), {len(args)} given")
        with _stdout_to(instance.stdout):
            raw = func(*[coerce(k, a) for k, a in zip(params, args)])
        if not kinds:
            return []
        values = list(raw) if len(kinds) > 1 else [raw]
        return [typed(k, v) for k, v in zip(kinds, values)]

    def close(self, handle: Any) -> str:
        return "dropped"

    def classify(self, exc: BaseException) -> ErrorFields:
        return common.classify(exc)


def _probe_import(module: str) -> None:
    """Import a compiler in a child first: some wheels kill the interpreter while loading.

    (wasmer-compiler-llvm 1.1.0 bundles a libtinfo that makes ld.so assert and exit 127 on
    recent glibc.) A worker that died here would be a crash with no step; this makes it a reason.
    """
    try:
        probe = subprocess.run(
            [sys.executable, "-c", f"import {module}"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeUnavailable(f"cannot try importing {module}: {exc}") from None
    if probe.returncode == 0:
        return
    if probe.returncode < 0:
        try:
            how = "killed by " + signal.Signals(-probe.returncode).name
        except ValueError:
            how = f"killed by signal {-probe.returncode}"
    else:
        how = f"exit {probe.returncode}"
    lines = probe.stderr.decode("utf-8", "replace").strip().splitlines()
    said = f": {lines[-1].strip()}" if lines else ""
    raise RuntimeUnavailable(f"importing {module} ends the interpreter ({how}){said}")


def _keep_temp_files_in(workdir: str) -> None:
    """The native and dylib engines link through temp files and leave some behind (.o files,
    and the .so of a library that failed to load): make them part of the run's work dir."""
    folder = os.path.join(workdir, ".tmp")
    os.makedirs(folder, exist_ok=True)
    os.environ["TMPDIR"] = folder  # read by Rust's env::temp_dir() at each use


def _wasi_imports(store: Any, module: Any, spec: dict[str, Any]) -> Any:
    version = wasmer.wasi.get_version(module, strict=False)
    if version is None:  # the module imports no WASI: give it the current snapshot anyway
        version = wasmer.wasi.Version.SNAPSHOT1
    builder = wasmer.wasi.StateBuilder("module")
    for arg in spec.get("args", []):
        builder = builder.argument(arg)
    for key, value in sorted(spec.get("env", {}).items()):
        builder = builder.environment(key, value)
    return builder.finalize().generate_import_object(store, version)


def _wasmer_type(kind: str) -> Any:
    return getattr(wasmer.Type, kind.upper())


def _kind(wasmer_type: Any) -> str:
    for kind in VALTYPES:
        if wasmer_type == _wasmer_type(kind):
            return kind
    return str(wasmer_type).lower()


@contextlib.contextmanager
def _stdout_to(path: str | None) -> Iterator[None]:
    """Point fd 1 at `path` (appending) while the body runs: where wasmer's WASI writes."""
    if path is None:
        yield
        return
    saved = os.dup(1)
    target = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.dup2(target, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(target)
