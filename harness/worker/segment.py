"""Run one segment's steps against an adapter, streaming a result per step.

Objects live only as long as this process: a restart is the end of the process, so the next
segment finds nothing but the files in the work dir. A step is caught at its boundary and becomes
a result; the segment stops at the first step whose result does not meet its expectation.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import time
from typing import Any, Callable

from harness.model.outcome import (
    ERROR,
    OK,
    UNSUPPORTED,
    cache_state,
    check,
    check_cache,
    intended_stop,
    new_result,
)
from harness.model.step import ErrorFields, StepJson, StepResultJson
from harness.worker import cachefiles, corrupt
from harness.worker.adapters.base import Adapter, Unsupported
from harness.worker.declared import DeclarationError, Declarations
from harness.worker.hostlib import HostLibrary

TAIL = 4000
# The cache directory a verbatim cache config names (the loader checked it is in the work dir).
_CONFIG_DIRECTORY = re.compile(r"^\s*directory\s*=\s*[\"']\$\{workdir\}/(.*?)[\"']", re.M)


class ScenarioStateError(Exception):
    """The scenario asked for something this segment cannot give (e.g. a missing work file)."""


def work_path(workdir: str, name: str) -> str:
    """The path of a work file or directory, which must resolve inside the work dir (links
    followed); checked before anything is created there. Adapters that make directories use it."""
    path = os.path.realpath(os.path.join(workdir, name))
    root = os.path.realpath(workdir)
    if os.path.isabs(name) or os.path.commonpath([path, root]) != root:
        raise ScenarioStateError(f"work file {name!r} resolves outside the work dir")
    return path


class Instance:
    def __init__(self, handle: Any, store: str, stdout_path: str | None) -> None:
        self.handle = handle
        self.store = store
        self.stdout_path = stdout_path
        self.exit_code: int | None = None


class Segment:
    def __init__(self, adapter: Adapter, workdir: str, fixtures: dict[str, str]) -> None:
        self.adapter = adapter
        self.workdir = workdir
        self.fixtures = fixtures
        self.host = HostLibrary()
        self.declarations = Declarations(self.host)
        self.engines: dict[str, Any] = {}
        self.modules: dict[str, tuple[str, Any]] = {}
        self.stores: dict[str, tuple[str, Any]] = {}
        self.instances: dict[str, Instance] = {}
        self.dropped: dict[str, str] = {}  # "kind name" -> how, for objects closed by dropping

    # -- helpers -----------------------------------------------------------------------------
    def work_path(self, name: str) -> str:
        return work_path(self.workdir, name)

    def engine(self, settings: dict[str, Any]) -> tuple[str, Any]:
        key = repr(sorted(settings.items()))
        if key not in self.engines:
            self.engines[key] = self.adapter.new_engine(settings, self.workdir)
        return key, self.engines[key]

    def fixture_bytes(self, name: str) -> bytes:
        with open(self.fixtures[name], "rb") as f:
            return f.read()

    def cache_dir(self, settings: dict[str, Any]) -> str | None:
        cache = settings.get("cache")
        if isinstance(cache, dict) and "config" in cache:
            named = _CONFIG_DIRECTORY.search(cache["config"])
            return self.work_path(named.group(1)) if named else None
        if isinstance(cache, dict):
            return self.work_path(cache["directory"])
        if cache is True:
            return os.path.join(self.workdir, ".cache")
        return None

    # -- steps -------------------------------------------------------------------------------
    def compile(self, args: dict[str, Any]) -> dict[str, Any]:
        key, engine = self.engine(args["engine"])
        cache = self.cache_dir(args["engine"])
        before = cachefiles.count(cache) if cache is not None else 0
        wasm = self.fixture_bytes(args["fixture"])
        started = time.perf_counter()
        module = self.adapter.compile(engine, wasm)
        detail: dict[str, Any] = {
            "wasm_bytes": len(wasm),
            "compile_s": round(time.perf_counter() - started, 6),
        }
        if cache is not None:
            after = cachefiles.count(cache)
            detail.update(
                cache_files_before=before, cache_files_after=after, cache=cache_state(before, after)
            )
            if args.get("corrupt_cache"):  # after the compile, for the next one to meet
                detail["cache_corrupted"] = cachefiles.damage(cache, args["corrupt_cache"])
        self.modules[args["as"]] = (key, module)
        return {"detail": detail}

    def serialize(self, args: dict[str, Any]) -> dict[str, Any]:
        _, module = self.get("module", args["module"])
        data = self.adapter.serialize(module)
        path = self.work_path(args["to"])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return {"detail": {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()[:16]}}

    def deserialize(self, args: dict[str, Any]) -> dict[str, Any]:
        key, engine = self.engine(args["engine"])
        if "wasm" in args:
            data, source = self.fixture_bytes(args["wasm"]), "fixture " + args["wasm"]
        else:
            source = self.work_path(args["from"])
            if not os.path.exists(source):
                raise ScenarioStateError("work file {!r} does not exist".format(args["from"]))
            with open(source, "rb") as f:
                data = f.read()
        changed = corrupt.apply(data, args.get("corrupt"))
        detail: dict[str, Any] = {"bytes": len(changed)}
        if args["via"] == "file":
            path = source
            if changed != data or "wasm" in args:
                path = self.work_path((args.get("from") or args["wasm"]) + ".input")
                with open(path, "wb") as f:
                    f.write(changed)
            module = self.adapter.deserialize_file(engine, path)
        else:
            module = self.adapter.deserialize(engine, changed)
        self.modules[args["as"]] = (key, module)
        return {"detail": detail}

    def instantiate(self, args: dict[str, Any]) -> dict[str, Any]:
        key, module = self.get("module", args["module"])
        engine = self.engines[key]
        try:
            imports = self.declarations.modules(args["imports"], args.get("functions") or {})
        except DeclarationError as exc:
            raise ScenarioStateError(str(exc)) from None
        wasi = None
        stdout_path = None
        if "wasi" in args["imports"]:
            stdout_path = self.work_path(args["as"] + ".stdout")
            wasi = dict(args["wasi"], stdout=stdout_path)
        store_key, store = self.stores.get(args["store"], (None, None))
        if store is None or store_key != key:
            store = self.adapter.new_store(engine, args.get("fuel"), wasi)
            self.stores[args["store"]] = (key, store)
        handle = self.adapter.instantiate(store, module, imports, wasi)
        self.instances[args["as"]] = Instance(handle, args["store"], stdout_path)
        return {"detail": {"imports": args["imports"]}}

    def call(self, args: dict[str, Any]) -> dict[str, Any]:
        instance = self.get("instance", args["instance"])
        _, store = self.get("store", instance.store)
        named = args.get("store")  # another store the application passes (None: the instance's)
        other = None if named in (None, instance.store) else self.get("store", named)[1]
        calls_before = len(self.host.calls)
        detail: dict[str, Any] = {}
        try:
            values = self.adapter.call(store, instance.handle, args["export"], args["args"], other)
        finally:
            if len(self.host.calls) > calls_before:
                detail["host_calls"] = self.host.calls[calls_before:]
            if instance.stdout_path:
                detail["stdout"] = _tail(instance.stdout_path)
            fuel = self.adapter.fuel_left(store)
            if fuel is not None:
                detail["fuel_left"] = fuel
        return {"values": values, "detail": detail}

    def close(self, args: dict[str, Any]) -> dict[str, Any]:
        closed = []
        exit_code = None
        for kind, name in args["order"]:
            if args.get("always") and not self._has(kind, name):
                # deferred cleanup after a failure: what was never made is not there to close
                closed.append(f"{kind} {name}: absent" if name else f"{kind}: absent")
                continue
            if kind == "engine":
                for key in list(self.engines):
                    closed.append("engine: " + self._close_one("engine", key))
                continue
            if kind == "instance":
                exit_code = self.get("instance", name).exit_code
            closed.append(f"{kind} {name}: {self._close_one(kind, name)}")
        return {"detail": {"closed": closed}, "exit_code": exit_code}

    def get(self, kind: str, name: str) -> Any:
        label = f"{kind} {name}"
        if label in self.dropped:
            raise Unsupported(
                f"{kind} {name!r} was closed by dropping it ({self.dropped[label]}); "
                "this runtime cannot express using it after close"
            )
        table = self._table(kind)
        if name not in table:
            raise ScenarioStateError(
                f"{kind} {name!r} was not created in this segment (its step failed?)"
            )
        return table[name]

    def _has(self, kind: str, name: str | None) -> bool:
        if kind == "engine":
            return bool(self.engines)
        return name in self._table(kind) and f"{kind} {name}" not in self.dropped

    def _table(self, kind: str) -> dict[str, Any]:
        tables: dict[str, dict[str, Any]] = {
            "module": self.modules,
            "instance": self.instances,
            "store": self.stores,
            "engine": self.engines,
        }
        return tables[kind]

    def _close_one(self, kind: str, name: str) -> str:
        """Close through the runtime's API; where it has none, drop our reference instead."""
        item = self.get(kind, name)
        handle = (
            item.handle if kind == "instance" else item[1] if kind in ("module", "store") else item
        )
        how = self.adapter.close(handle)
        if how == "dropped":
            del self._table(kind)[name]
            del handle, item
            gc.collect()
            self.dropped[f"{kind} {name}"] = "no close() in this API"
        return how


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - TAIL))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _classify(adapter: Adapter, exc: BaseException) -> ErrorFields:
    try:
        return adapter.classify(exc)
    except Exception as inner:  # the adapter could not read the error: say so, keep the message
        return {
            "outcome": ERROR,
            "error_kind": "harness",
            "error_type": type(exc).__name__,
            "message": f"{exc} (adapter could not classify it: {inner!r})",
        }


# Errors only a programming mistake raises. Raised by our own code (the innermost frame is in the
# harness package), they are a bug in wasm-compat, never the behaviour of the runtime under test;
# raised inside a runtime's own Python code, they are the runtime's.
_BUG_TYPES = (KeyError, IndexError, AttributeError, NameError, AssertionError, ImportError)
_HARNESS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _harness_bug(exc: BaseException) -> ErrorFields | None:
    if not isinstance(exc, _BUG_TYPES):
        return None
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = os.path.abspath(tb.tb_frame.f_code.co_filename) if tb is not None else ""
    if not where.startswith(_HARNESS_DIR + os.sep):
        return None
    at = f"{os.path.relpath(where, os.path.dirname(_HARNESS_DIR))}:{tb.tb_lineno if tb else 0}"
    name = type(exc).__name__
    return {
        "outcome": ERROR,
        "error_kind": "harness",
        "error_type": name,
        "message": f"a bug in wasm-compat, not the runtime's behaviour: {name}: {exc} at {at}",
    }


class Stopped(Exception):
    """An observation (`expect: any`) ended other than ok: what follows has nothing to act on."""


def run(segment: Segment, steps: list[StepJson], emit: Callable[..., None]) -> bool:
    """Run the steps in order; False if one missed its expectation (the rest are skipped).

    Raises Stopped, after reporting the rest as not run, when an observation ended other than ok.
    Either way the closes marked `always` after it still run (see `_deferred`).
    """
    for position, step in enumerate(steps):
        result = run_step(segment, step, emit)
        rest = steps[position + 1 :]
        if not result["met"]:
            _deferred(segment, rest, emit, None)
            return False
        stop = intended_stop(result, bool(step.get("known")))
        if stop:
            _deferred(segment, rest, emit, stop)
            raise Stopped(stop)
    return True


def _deferred(
    segment: Segment, rest: list[StepJson], emit: Callable[..., None], stop: str | None
) -> None:
    """What follows a step that ended the segment: each close marked `always` runs, as an
    application's deferred cleanup does whatever failed before it; after an intended stop the
    other steps are reported not run (after a missed expectation they are not reported)."""
    for step in rest:
        if step["op"] == "close" and step["args"].get("always"):
            run_step(segment, step, emit)
        elif stop is not None:
            skipped = new_result(step)
            skipped.update({"met": True, "why": stop})
            emit("step_finished", result=skipped)


def run_step(segment: Segment, step: StepJson, emit: Callable[..., None]) -> StepResultJson:
    """One step, reported as it starts and as it ends; its result, checked."""
    emit("step_started", index=step["index"], op=step["op"])
    args: dict[str, Any] = step["args"]  # the op's own: each op reads what it needs
    started = time.perf_counter()
    result = _outcome(segment, step)
    result["duration_s"] = round(time.perf_counter() - started, 6)
    adapted = segment.adapter.take_adapted()
    if adapted:
        result["adapted"] = adapted
    met, why = check(step["expect"], result, args.get("results"))
    if met and result["outcome"] == OK and args.get("cache"):
        result["detail"]["cache_expected"] = args["cache"]
        met, why = check_cache(args["cache"], result["detail"])
    result["met"], result["why"] = met, why or None
    emit("step_finished", result=result)
    return result


def _outcome(segment: Segment, step: StepJson) -> StepResultJson:
    """The step performed: what it returned, or what it raised as outcome fields."""
    args: dict[str, Any] = step["args"]
    result = new_result(step)
    try:
        out = getattr(segment, step["op"])(args)
        result["outcome"] = OK
        result["values"] = out.get("values")
        result["detail"] = out.get("detail", {})
        if out.get("exit_code") is not None:
            result["exit_code"] = out["exit_code"]
    except KeyboardInterrupt:
        raise
    except (Unsupported, corrupt.CorruptError) as exc:
        # CorruptError: this release's artifact has no such part (e.g. no ELF code section)
        result.update(
            {"outcome": UNSUPPORTED, "error_type": type(exc).__name__, "message": str(exc)}
        )
    except ScenarioStateError as exc:
        result.update(
            {
                "outcome": ERROR,
                "error_kind": "scenario",
                "error_type": type(exc).__name__,
                "message": str(exc),
            }
        )
    except BaseException as exc:  # a runtime's error, whatever its class: a value, not a crash
        result = {**result, **(_harness_bug(exc) or _classify(segment.adapter, exc))}
        if step["op"] == "call" and result.get("error_kind") == "exit":
            segment.instances[args["instance"]].exit_code = result["exit_code"]
            if result["exit_code"] == 0:
                result["outcome"] = OK
    return result
