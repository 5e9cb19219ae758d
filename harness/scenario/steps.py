"""Each step op's arguments, built from its body in the scenario, and the checks on them.

A builder (`STEP_BUILDERS[op]`) takes a step's substituted body and the case's engine and returns
the step's arguments with every default filled in, raising the one-line `ScenarioError` that
`Errors` makes for a value a worker could not use: an unknown feature, a work file outside the
run's work dir, a wasm value that is not a number.
"""

from __future__ import annotations

import hashlib
import math
import posixpath
import re
from typing import Any

from harness.errors import ScenarioError
from harness.scenario.values import (
    CLOSE_ORDER,
    DEFAULT_INSTANCE,
    DEFAULT_MODULE,
    DEFAULT_STORE,
    Expectation,
    Scenario,
    params_id,
)


def split_step(raw: Any) -> tuple[str, dict[str, Any]]:
    """A step as (op, body), with the short forms `restart`, `compile: NAME` and `close: [...]`
    spelled out."""
    if isinstance(raw, str):
        return raw, {}
    ((op, body),) = raw.items()
    if op == "compile" and isinstance(body, str):
        return op, {"fixture": body}
    if op == "close" and isinstance(body, list):
        return op, {"order": body}
    return op, dict(body)


class Errors:
    """Makes the one-line ScenarioError for a place in a scenario: the nearest line the loader
    recorded, the step it is in and, for a scenario with parameters, the parameter set."""

    def __init__(self, scenario: Scenario, params: dict[str, Any]) -> None:
        self.scenario = scenario
        self.params = params

    def __call__(self, at: tuple[Any, ...], message: str) -> ScenarioError:
        lines = self.scenario.lines
        probe = at
        while probe and probe not in lines:
            probe = probe[:-1]
        where = ""
        if len(at) >= 2 and at[0] == "steps":
            where = f"step {at[1] + 1} ({split_step(self.scenario.data['steps'][at[1]])[0]}): "
        suffix = f" [params {params_id(self.params)}]" if self.params else ""
        return ScenarioError(self.scenario.path, lines.get(probe), f"{where}{message}{suffix}")


# `${workdir}` in a cache config stands for the run's work dir, which only the worker knows.
WORKDIR = "workdir"
# a `directory = "..."` line of a cache config, and what a directory in it must start with
_CONFIG_DIRECTORY = re.compile(r"^\s*directory\s*=\s*[\"'](.*?)[\"']\s*(?:#.*)?$", re.M)


def _check_cache_config(engine: dict[str, Any], err: Errors, at: tuple[Any, ...]) -> None:
    """A verbatim cache config reaches the runtime as written; its cache directory must still
    be in the run's work dir, named through `${workdir}`."""
    cache = engine.get("cache")
    if not isinstance(cache, dict) or "config" not in cache:
        return
    for directory in _CONFIG_DIRECTORY.findall(str(cache["config"])):
        prefix = "${" + WORKDIR + "}/"
        if not directory.startswith(prefix):
            raise err(
                (*at, "cache", "config"),
                f"the cache directory must be in the run's work dir: "
                f'directory = "{prefix}NAME", found {directory!r}',
            )
        _check_workfile(directory[len(prefix) :], err, (*at, "cache", "config"))


FEATURES = (
    "simd",
    "relaxed_simd",
    "tail_call",
    "multi_memory",
    "reference_types",
    "function_references",
    "gc",
    "threads",
    "memory64",
    "exceptions",
    "bulk_memory",
    "multi_value",
)


MAX_FUEL = 2**63 - 1  # a u64 in the runtimes; kept to i64 for the ones that take it signed


def normalize_engine(engine: dict[str, Any], err: Errors, at: tuple[Any, ...]) -> dict[str, Any]:
    """`features: [simd]` is short for `features: {simd: true}`; names may come from params.
    Values are checked here, after parameters are substituted: the fuel's range, the cache
    directory's place. A setting's name and value are the runtime's to judge (the loader already
    made a non-finite float the string it was written as)."""
    _check_cache_config(engine, err, at)
    cache = engine.get("cache")
    if isinstance(cache, dict) and "directory" in cache:
        _check_workfile(cache["directory"], err, (*at, "cache", "directory"), directory=True)
    elif cache is not None and not isinstance(cache, (bool, dict)):
        raise err((*at, "cache"), f"expected true, false or a mapping, found {cache!r}")
    fuel = engine.get("fuel")
    if isinstance(fuel, bool) or (fuel is not None and not isinstance(fuel, int)):
        raise err((*at, "fuel"), f"expected an integer amount of fuel, found {fuel!r}")
    if isinstance(fuel, int):
        check_range(fuel, (0, MAX_FUEL), "fuel", err, (*at, "fuel"))
    features = engine.get("features")
    if not isinstance(features, list):
        return engine
    for name in features:
        if name not in FEATURES:
            raise err((*at, "features"), f"unknown feature {name!r} (known: {', '.join(FEATURES)})")
    return {**engine, "features": dict.fromkeys(features, True)}


def _engine_for(body: dict[str, Any], engine: dict[str, Any]) -> dict[str, Any]:
    override = body.get("engine") or {}
    merged = {**engine, **override}
    for key in ("features", "settings"):  # a step's names add to the scenario's
        if key in engine and key in override:
            merged[key] = {**engine[key], **override[key]}
    return merged


def _compile(body: dict[str, Any], engine: dict[str, Any], err: Errors, at: Any) -> dict[str, Any]:
    fixture = fixture_name(body["fixture"], err, (*at, "compile", "fixture"))
    merged = _engine_for(body, engine)
    args = {"fixture": fixture, "as": body.get("as", DEFAULT_MODULE), "engine": merged}
    if "cache" in body:
        if not merged.get("cache"):
            raise err((*at, "compile", "cache"), "'cache: hit|miss' needs a cache on the engine")
        args["cache"] = body["cache"]
    if "corrupt_cache" in body:
        args["corrupt_cache"] = _corrupt_cache(body["corrupt_cache"], merged, err, at)
    return args


def _corrupt_cache(
    spec: dict[str, Any], engine: dict[str, Any], err: Errors, at: tuple[Any, ...]
) -> dict[str, Any]:
    """What to do to each entry of the engine's cache directory after the compile: corrupt's
    truncate, empty or flip, or `delete: true`. The directory is one the scenario names."""
    at = (*at, "compile", "corrupt_cache")
    cache = engine.get("cache")
    named = isinstance(cache, dict) and (
        "directory" in cache or bool(_CONFIG_DIRECTORY.search(str(cache.get("config", ""))))
    )
    if not named:
        raise err(
            at,
            "'corrupt_cache' needs a cache directory on the engine: "
            "cache: {directory: NAME} or a config naming one, found " + _short(cache),
        )
    if "delete" in spec and len(spec) > 1:
        raise err(at, "'delete' removes the entries; it takes no other corruption")
    _check_corruption(spec, err, at)
    return dict(spec)


def _serialize(
    body: dict[str, Any], engine: dict[str, Any], err: Errors, at: Any
) -> dict[str, Any]:
    module = body.get("module", DEFAULT_MODULE)
    to = body.get("to", f"{module}.cwasm")
    _check_workfile(to, err, (*at, "serialize", "to"))
    return {"module": module, "to": to}


def _deserialize(
    body: dict[str, Any], engine: dict[str, Any], err: Errors, at: Any
) -> dict[str, Any]:
    if sum(key in body for key in ("from", "wasm", "precompiled")) != 1:
        raise err(
            (*at, "deserialize"),
            "give exactly one of 'from' (a work file), 'wasm' (a fixture) or 'precompiled' "
            "(a fixture the wasmtime CLI compiles)",
        )
    args: dict[str, Any] = {
        "as": body.get("as", DEFAULT_MODULE),
        "via": body.get("via", "bytes"),
        "corrupt": body.get("corrupt"),
        "engine": _engine_for(body, engine),
    }
    if "from" in body:
        _check_workfile(body["from"], err, (*at, "deserialize", "from"))
        args["from"] = body["from"]
    elif "wasm" in body:
        args["wasm"] = fixture_name(body["wasm"], err, (*at, "deserialize", "wasm"))
    else:  # the worker reads the CLI's artifact as it reads any fixture: by the name it is given
        name = fixture_name(body["precompiled"], err, (*at, "deserialize", "precompiled"))
        args["wasm"] = f"{name}{PRECOMPILED_SUFFIX}"
    _check_corruption(body.get("corrupt") or {}, err, (*at, "deserialize", "corrupt"))
    return args


def _check_corruption(corrupt: dict[str, Any], err: Errors, at: tuple[Any, ...]) -> None:
    if isinstance(corrupt.get("truncate"), int):
        check_range(corrupt["truncate"], OFFSETS, "an offset", err, at)
    for offset in corrupt.get("flip") or []:
        if isinstance(offset, int):
            check_range(offset, OFFSETS, "an offset", err, (*at, "flip"))
    if "flip" not in corrupt and "in" in corrupt:
        raise err((*at, "in"), "'in' only applies to 'flip' offsets")


def _instantiate(
    body: dict[str, Any], engine: dict[str, Any], err: Errors, at: Any
) -> dict[str, Any]:
    imports = body.get("imports", "none")
    imports = [] if imports == "none" else [imports] if isinstance(imports, str) else list(imports)
    if "wasi" in body and "wasi" not in imports:
        imports.append("wasi")
    wasi = body.get("wasi") or {}
    return {
        "module": body.get("module", DEFAULT_MODULE),
        "as": body.get("as", DEFAULT_INSTANCE),
        "store": body.get("store", DEFAULT_STORE),
        "imports": imports,
        "functions": {},
        "wasi": {"args": list(wasi.get("args", [])), "env": dict(wasi.get("env", {}))},
        "fuel": engine.get("fuel"),
    }


def _call(body: dict[str, Any], engine: dict[str, Any], err: Errors, at: Any) -> dict[str, Any]:
    args = [
        wasm_value(v, err, (*at, "call", "args", i)) for i, v in enumerate(body.get("args", []))
    ]
    results = body.get("results")
    return {
        "instance": body.get("instance", DEFAULT_INSTANCE),
        "store": body.get("store"),  # None: the instance's own
        "export": body["export"],
        "args": args,
        "results": None
        if results is None
        else [wasm_value(v, err, (*at, "call", "results", i)) for i, v in enumerate(results)],
    }


def _close(body: dict[str, Any], engine: dict[str, Any], err: Errors, at: Any) -> dict[str, Any]:
    defaults = {"instance": DEFAULT_INSTANCE, "store": DEFAULT_STORE, "module": DEFAULT_MODULE}
    order: list[list[str | None]] = []
    for item in body.get("order", CLOSE_ORDER):
        if isinstance(item, str):
            order.append([item, defaults.get(item)])
        else:
            ((kind, name),) = item.items()
            order.append([kind, name])
    # `always`: run even after an earlier step failed or stopped the segment, as deferred cleanup
    return {"order": order, "explicit": "order" in body, "always": bool(body.get("always"))}


STEP_BUILDERS = {
    "compile": _compile,
    "serialize": _serialize,
    "deserialize": _deserialize,
    "instantiate": _instantiate,
    "call": _call,
    "close": _close,
}


# What an integer of each type may be written as: signed or unsigned, as wasm's are both.
INT_RANGES = {"i32": (-(2**31), 2**32 - 1), "i64": (-(2**63), 2**64 - 1)}
F32_MAX = 3.4028234663852886e38
I32 = (-(2**31), 2**31 - 1)  # an exit code
OFFSETS = (-(2**32), 2**32)  # a byte offset into an artifact (negative: from its end)


def check_range(value: Any, bounds: tuple[int, int], what: str, err: Errors, at: Any) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise err(at, f"{what} must be from {low} to {high}, found {_short(value)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def wasm_value(raw: Any, err: Errors, at: tuple[Any, ...]) -> dict[str, Any]:
    """A wasm value: its type when the scenario says it, else the export's signature decides.
    It must fit its type (an untyped integer fits an i64); nan and inf are spelled as strings."""
    if isinstance(raw, dict):
        ((kind, value),) = raw.items()
    else:
        kind, value = None, raw
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise err(at, f"expected a number, found {value!r}")
    if isinstance(value, str) and (value not in ("nan", "inf", "-inf") or kind in ("i32", "i64")):
        raise err(at, f"expected a number, found {value!r}")
    if kind in ("i32", "i64") and not isinstance(value, int):
        raise err(at, f"{kind} needs an integer, found {value!r}")
    if isinstance(value, int):
        check_range(
            value, INT_RANGES.get(kind or "i64", INT_RANGES["i64"]), kind or "an integer", err, at
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise err(at, f"a float must be finite (spell nan and inf as strings), found {value!r}")
    if kind == "f32" and isinstance(value, (int, float)) and abs(value) > F32_MAX:
        raise err(at, f"f32 must be at most {F32_MAX:g} in magnitude, found {_short(value)}")
    return {"type": kind, "value": value}


def expectation(raw: Any, err: Errors, at: tuple[Any, ...]) -> Expectation:
    if raw is None:
        return Expectation()
    if isinstance(raw, str):
        return Expectation(kind=raw)
    ((kind, detail),) = raw.items()
    if kind == "exit":
        if not isinstance(detail, int) or isinstance(detail, bool):
            raise err((*at, "expect", "exit"), f"expected an integer exit code, found {detail!r}")
        check_range(detail, I32, "an exit code", err, (*at, "expect", "exit"))
        return Expectation(kind="exit", exit_code=detail)
    try:
        re.compile(detail)
    except re.error as exc:
        raise err((*at, "expect", kind), f"invalid regular expression {detail!r}: {exc}") from None
    return Expectation(kind=kind, pattern=detail)


MODULE_SUFFIXES = (".wasm", ".wat")
# the name a worker knows `deserialize: {precompiled: M}`'s artifact by: M's, told apart from M's
PRECOMPILED_SUFFIX = "_cwasm"
# how a case's sources mark such an artifact's module (`precompiled:../m.wasm`)
PRECOMPILED_PREFIX = "precompiled:"


def fixture_name(spelling: Any, err: Errors, at: tuple[Any, ...]) -> str:
    """The name a worker knows a module by. A fixture's name is itself; a module given by path
    (it ends in .wasm or .wat, which a name cannot) gets its stem and a hash of the path, as the
    protocol names fixtures with a-z, 0-9 and _ only. Where the path leads is checked where files
    are read (`fixtures.module_file`); here only how it is written."""
    if isinstance(spelling, str) and re.fullmatch(r"[a-z0-9_]+", spelling):
        return spelling
    if not isinstance(spelling, str) or not spelling.endswith(MODULE_SUFFIXES):
        raise err(
            at,
            f"expected a fixture name (a-z, 0-9, _) or a path to a .wasm or .wat file, "
            f"found {_short(spelling)}",
        )
    # `python:PATH` is relative to the installed packages instead (`installed.PYTHON_PREFIX`)
    relative = spelling.removeprefix("python:")
    if relative.startswith(("/", "~")) or "\\" in relative or ":" in relative.split("/")[0]:
        raise err(
            at,
            f"a module path is relative to the scenario file (or, after python:, to the "
            f"installed packages), found {spelling!r}",
        )
    if len(spelling) > 1024 or not spelling.isprintable():
        raise err(
            at, f"expected a path of printable characters, up to 1024, found {_short(spelling)}"
        )
    path = posixpath.normpath(spelling)
    stem = re.sub(r"[^a-z0-9_]+", "_", posixpath.basename(path).rsplit(".", 1)[0].lower())
    digest = hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{stem.strip('_')[:40] or 'module'}_{digest}"


def _check_workfile(name: Any, err: Errors, at: tuple[Any, ...], directory: bool = False) -> None:
    """Work files live inside the run's work dir: no absolute paths, no climbing out; a file's
    name names a file (not `.`, `..`, nor one ending in `/`), a directory one below the work dir.
    Checked after parameters are substituted, before anything is created."""
    what = "a directory" if directory else "a file name"
    if not isinstance(name, str) or not name.strip():
        raise err(at, f"expected {what} in the work dir, found {name!r}")
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "~")) or ".." in parts or "\x00" in name or ":" in parts[0]:
        raise err(at, f"must stay inside the run's work dir, found {name!r}")
    if len(name) > 255 or any(not p.isprintable() for p in name):
        raise err(at, f"expected {what} of printable characters, up to 255, found {name!r}")
    last = [p for p in parts if p not in ("", ".")]
    if not last or (not directory and parts[-1] in ("", ".")):
        raise err(at, f"expected {what} in the work dir, not the work dir itself, found {name!r}")
