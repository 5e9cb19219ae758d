"""The scenario model: pure values built from checked scenario data.

A `Scenario` is what a file says; a `Case` is one parameter set of it with every `${name}`
substituted, defaults filled in and the steps split into segments at each `restart`.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field, replace
from typing import Any

from harness.errors import ScenarioError

Lines = dict[tuple[Any, ...], int]

DEFAULT_MODULE = "m"
DEFAULT_INSTANCE = "i"
DEFAULT_STORE = "s"
CLOSE_ORDER = ("instance", "store", "module", "engine")
_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Expectation:
    """What a step should do: `kind` is ok/error/trap/exit/crash/timeout/unsupported."""

    kind: str = "ok"
    pattern: str | None = None
    exit_code: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.pattern is not None:
            out["pattern"] = self.pattern
        if self.exit_code is not None:
            out["exit_code"] = self.exit_code
        return out

    def describe(self) -> str:
        if self.kind == "exit":
            return f"exit {self.exit_code}"
        return f"{self.kind} /{self.pattern}/" if self.pattern else self.kind


@dataclass(frozen=True)
class Step:
    index: int  # 0-based position in the scenario, restarts included
    op: str
    args: dict[str, Any]
    expect: Expectation
    line: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "op": self.op,
            "args": self.args,
            "expect": self.expect.to_json(),
            "line": self.line,
        }


@dataclass(frozen=True)
class Known:
    """A runtime's known behaviour at one step, standing in for the step's expectation."""

    index: int  # the step's index in `steps` (0-based; restarts count)
    expect: Expectation
    reason: str
    runtime: tuple[str, ...] = ()  # globs; an empty tuple matches nothing it is asked about
    producer: tuple[str, ...] = ()
    consumer: tuple[str, ...] = ()
    params: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    results: tuple[Any, ...] | None = None  # the values it is known to return instead

    def matches(
        self,
        params: dict[str, Any],
        runtime: str | None,
        producer: str | None = None,
        consumer: str | None = None,
    ) -> bool:
        for key, allowed in self.params:
            if params.get(key) not in allowed:
                return False
        for globs, name in (
            (self.runtime, runtime),
            (self.producer, producer),
            (self.consumer, consumer),
        ):
            if globs and (name is None or not any(fnmatch.fnmatchcase(name, g) for g in globs)):
                return False
        return True


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    description: str
    tags: tuple[str, ...]
    timeout: float | None
    data: dict[str, Any] = field(repr=False)
    lines: Lines = field(repr=False)
    text: str = field(repr=False, default="")
    upgrade: bool = False  # run across every (producer, consumer) pair; see `upgrade` in the schema
    producer: str | None = None  # "other-family": the first segment runs on the other family
    known: tuple[Known, ...] = ()

    @property
    def param_sets(self) -> list[dict[str, Any]]:
        return list(self.data.get("params") or [{}])


@dataclass(frozen=True)
class Case:
    """One runnable parameter set of a scenario."""

    scenario: Scenario
    params: dict[str, Any]
    engine: dict[str, Any]
    segments: tuple[tuple[Step, ...], ...]

    @property
    def params_id(self) -> str:
        return params_id(self.params)

    @property
    def id(self) -> str:
        return f"{self.scenario.name}[{self.params_id}]" if self.params else self.scenario.name

    def known_for(
        self, runtime: str | None, producer: str | None = None, consumer: str | None = None
    ) -> dict[int, Known]:
        """The known-behaviour entries that apply to one run, by step index (first one wins)."""
        found: dict[int, Known] = {}
        for entry in self.scenario.known:
            if entry.index not in found and entry.matches(self.params, runtime, producer, consumer):
                found[entry.index] = entry
        return found

    @property
    def fixtures(self) -> set[str]:
        names = set()
        for segment in self.segments:
            for step in segment:
                for key in ("fixture", "wasm"):
                    if key in step.args:
                        names.add(step.args[key])
        return names


def params_id(params: dict[str, Any]) -> str:
    return ",".join(f"{k}={params[k]}" for k in sorted(params))


def parse_scenario(
    data: dict[str, Any], lines: Lines, path: str, default_name: str, text: str = ""
) -> Scenario:
    """Model schema-checked data; then resolve every parameter set so mistakes surface now."""
    scenario = Scenario(
        name=data.get("name") or default_name,
        path=path,
        description=(data.get("description") or "").strip(),
        tags=tuple(data.get("tags") or ()),
        timeout=data.get("timeout"),
        data=data,
        upgrade=bool(data.get("upgrade")),
        producer=data.get("producer"),
        lines=lines,
        text=text,
    )
    scenario = replace(scenario, known=_known(scenario))
    if scenario.upgrade and scenario.producer:
        raise _Errors(scenario, {})(("producer",), "'producer' and 'upgrade' exclude each other")
    for params in scenario.param_sets:
        case = resolve(scenario, params)
        for key in ("upgrade", "producer"):
            if data.get(key) and len(case.segments) < 2:
                raise _Errors(scenario, params)(
                    (key,),
                    f"'{key}' needs a `restart` step between producer and consumer",
                )
    return scenario


def _known(scenario: Scenario) -> tuple[Known, ...]:
    err = _Errors(scenario, {})
    steps = scenario.data["steps"]
    names = {k for p in scenario.param_sets for k in p}
    found = []
    for n, raw in enumerate(scenario.data.get("known") or []):
        at = ("known", n)
        index = raw["step"] - 1
        if index >= len(steps) or _split_step(steps[index])[0] == "restart":
            raise err((*at, "step"), f"step {raw['step']} is not a step that can have an outcome")
        if not any(k in raw for k in ("runtime", "producer", "consumer")):
            raise err(at, "say which runs it is about: 'runtime', 'producer' or 'consumer'")
        for key in raw.get("params") or {}:
            if key not in names:
                raise err((*at, "params", key), f"unknown parameter {key!r}")

        def globs(key: str, raw: dict[str, Any] = raw) -> tuple[str, ...]:
            value = raw.get(key) or ()
            return (value,) if isinstance(value, str) else tuple(value)

        params = tuple(
            (key, tuple(value) if isinstance(value, list) else (value,))
            for key, value in sorted((raw.get("params") or {}).items())
        )
        found.append(
            Known(
                index,
                _expectation(raw["expect"], err, at),
                " ".join(raw["reason"].split()),
                globs("runtime"),
                globs("producer"),
                globs("consumer"),
                params,
                _known_results(raw, steps[index], err, at),
            )
        )
    return tuple(found)


def _known_results(
    raw: dict[str, Any], step: Any, err: _Errors, at: tuple[Any, ...]
) -> tuple[Any, ...] | None:
    """A known wrong result states the values the runtime returns: an observation alone would
    let any value through, and a wrong value is never silent."""
    if "results" not in raw:
        return None
    if _split_step(step)[0] != "call":
        raise err((*at, "results"), "'results' belongs to an entry about a call step")
    return tuple(_value(v, err, (*at, "results", i)) for i, v in enumerate(raw["results"]))


def cases(scenario: Scenario) -> list[Case]:
    return [resolve(scenario, params) for params in scenario.param_sets]


def resolve(scenario: Scenario, params: dict[str, Any]) -> Case:
    """Substitute one parameter set, fill defaults, split segments, check names are defined."""
    err = _Errors(scenario, params)
    engine = _features(
        _substitute(scenario.data.get("engine") or {}, params, err, ("engine",)), err, ("engine",)
    )
    segments: list[list[Step]] = [[]]
    defined: dict[str, dict[str, int | None]] = _fresh_names()
    for index, raw in enumerate(scenario.data["steps"]):
        at = ("steps", index)
        op, body = _split_step(raw)
        if op == "restart":
            segments.append([])
            defined = _fresh_names(previous=defined)
            continue
        body = _substitute(body, params, err, (*at, op))
        line = scenario.lines.get(at)
        if "engine" in body:
            body["engine"] = _features(body["engine"], err, (*at, op, "engine"))
        args = _STEP_BUILDERS[op](body, engine, err, at)
        step = Step(index, op, args, _expectation(body.get("expect"), err, (*at, op)), line)
        if args.get("results") is not None and step.expect.kind not in ("ok", "any"):
            raise err(
                (*at, op, "results"),
                f"`results` needs the call to return (expect ok or any), "
                f"found expect {step.expect.describe()}",
            )
        _check_names(step, defined, err, at)
        segments[-1].append(step)
    return Case(scenario, dict(params), engine, tuple(tuple(s) for s in segments))


def _split_step(raw: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(raw, str):
        return raw, {}
    ((op, body),) = raw.items()
    if op == "compile" and isinstance(body, str):
        return op, {"fixture": body}
    if op == "close" and isinstance(body, list):
        return op, {"order": body}
    return op, dict(body)


class _Errors:
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
            where = f"step {at[1] + 1} ({_split_step(self.scenario.data['steps'][at[1]])[0]}): "
        suffix = f" [params {params_id(self.params)}]" if self.params else ""
        return ScenarioError(self.scenario.path, lines.get(probe), f"{where}{message}{suffix}")


def _substitute(value: Any, params: dict[str, Any], err: _Errors, at: tuple[Any, ...]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, params, err, (*at, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, params, err, (*at, i)) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value
    for name in _REF.findall(value):
        if name == WORKDIR and name not in params:
            continue  # the run's work dir: the worker fills it in, where it is known
        if name not in params:
            known = ", ".join(sorted(params)) or "none"
            raise err(at, f"unknown parameter ${{{name}}} (parameters: {known})")
    whole = _REF.fullmatch(value)
    if whole and whole.group(1) in params:  # keep its own type: `fuel: ${fuel}` stays a number
        return params[whole.group(1)]
    return _REF.sub(lambda m: str(params.get(m.group(1), m.group(0))), value)


# `${workdir}` in a cache config stands for the run's work dir, which only the worker knows.
WORKDIR = "workdir"
# a `directory = "..."` line of a cache config, and what a directory in it must start with
_CONFIG_DIRECTORY = re.compile(r"^\s*directory\s*=\s*[\"'](.*?)[\"']\s*(?:#.*)?$", re.M)


def _check_cache_config(engine: dict[str, Any], err: _Errors, at: tuple[Any, ...]) -> None:
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


def _features(engine: dict[str, Any], err: _Errors, at: tuple[Any, ...]) -> dict[str, Any]:
    """`features: [simd]` is short for `features: {simd: true}`; names may come from params."""
    _check_cache_config(engine, err, at)
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
    if "features" in engine and "features" in override:
        merged["features"] = {**engine["features"], **override["features"]}
    return merged


def _compile(body: dict[str, Any], engine: dict[str, Any], err: _Errors, at: Any) -> dict[str, Any]:
    _check_fixture_name(body["fixture"], err, (*at, "compile", "fixture"))
    merged = _engine_for(body, engine)
    args = {"fixture": body["fixture"], "as": body.get("as", DEFAULT_MODULE), "engine": merged}
    if "cache" in body:
        if not merged.get("cache"):
            raise err((*at, "compile", "cache"), "'cache: hit|miss' needs a cache on the engine")
        args["cache"] = body["cache"]
    return args


def _serialize(
    body: dict[str, Any], engine: dict[str, Any], err: _Errors, at: Any
) -> dict[str, Any]:
    module = body.get("module", DEFAULT_MODULE)
    to = body.get("to", f"{module}.cwasm")
    _check_workfile(to, err, (*at, "serialize", "to"))
    return {"module": module, "to": to}


def _deserialize(
    body: dict[str, Any], engine: dict[str, Any], err: _Errors, at: Any
) -> dict[str, Any]:
    if ("from" in body) == ("wasm" in body):
        raise err(
            (*at, "deserialize"), "give exactly one of 'from' (a work file) or 'wasm' (a fixture)"
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
    else:
        _check_fixture_name(body["wasm"], err, (*at, "deserialize", "wasm"))
        args["wasm"] = body["wasm"]
    corrupt = body.get("corrupt") or {}
    if "flip" not in corrupt and "in" in corrupt:
        raise err((*at, "deserialize", "corrupt", "in"), "'in' only applies to 'flip' offsets")
    return args


def _instantiate(
    body: dict[str, Any], engine: dict[str, Any], err: _Errors, at: Any
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
        "wasi": {"args": list(wasi.get("args", [])), "env": dict(wasi.get("env", {}))},
        "fuel": engine.get("fuel"),
    }


def _call(body: dict[str, Any], engine: dict[str, Any], err: _Errors, at: Any) -> dict[str, Any]:
    args = [_value(v, err, (*at, "call", "args", i)) for i, v in enumerate(body.get("args", []))]
    results = body.get("results")
    return {
        "instance": body.get("instance", DEFAULT_INSTANCE),
        "export": body["export"],
        "args": args,
        "results": None
        if results is None
        else [_value(v, err, (*at, "call", "results", i)) for i, v in enumerate(results)],
    }


def _close(body: dict[str, Any], engine: dict[str, Any], err: _Errors, at: Any) -> dict[str, Any]:
    defaults = {"instance": DEFAULT_INSTANCE, "store": DEFAULT_STORE, "module": DEFAULT_MODULE}
    order: list[list[str | None]] = []
    for item in body.get("order", CLOSE_ORDER):
        if isinstance(item, str):
            order.append([item, defaults.get(item)])
        else:
            ((kind, name),) = item.items()
            order.append([kind, name])
    return {"order": order, "explicit": "order" in body}


_STEP_BUILDERS = {
    "compile": _compile,
    "serialize": _serialize,
    "deserialize": _deserialize,
    "instantiate": _instantiate,
    "call": _call,
    "close": _close,
}


def _value(raw: Any, err: _Errors, at: tuple[Any, ...]) -> dict[str, Any]:
    """A wasm value: its type when the scenario says it, else the export's signature decides."""
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
    return {"type": kind, "value": value}


def _expectation(raw: Any, err: _Errors, at: tuple[Any, ...]) -> Expectation:
    if raw is None:
        return Expectation()
    if isinstance(raw, str):
        return Expectation(kind=raw)
    ((kind, detail),) = raw.items()
    if kind == "exit":
        if not isinstance(detail, int) or isinstance(detail, bool):
            raise err((*at, "expect", "exit"), f"expected an integer exit code, found {detail!r}")
        return Expectation(kind="exit", exit_code=detail)
    try:
        re.compile(detail)
    except re.error as exc:
        raise err((*at, "expect", kind), f"invalid regular expression {detail!r}: {exc}") from None
    return Expectation(kind=kind, pattern=detail)


def _check_fixture_name(name: Any, err: _Errors, at: tuple[Any, ...]) -> None:
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]+", name):
        raise err(at, f"expected a fixture name (a-z, 0-9, _), found {name!r}")


def _check_workfile(name: Any, err: _Errors, at: tuple[Any, ...]) -> None:
    """Work files live inside the run's work dir: no absolute paths, no climbing out."""
    if not isinstance(name, str) or not name:
        raise err(at, f"expected a file name in the work dir, found {name!r}")
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "~")) or ".." in parts or "\x00" in name:
        raise err(at, f"must stay inside the run's work dir, found {name!r}")


def _fresh_names(
    previous: dict[str, dict[str, int | None]] | None = None,
) -> dict[str, dict[str, int | None]]:
    names: dict[str, dict[str, int | None]] = {"module": {}, "instance": {}, "store": {}}
    names["lost"] = {}
    if previous:
        for kind in ("module", "instance", "store"):
            for name, line in previous[kind].items():
                names["lost"][f"{kind}:{name}"] = line
        names["lost"].update(previous["lost"])
    return names


def _check_names(
    step: Step, defined: dict[str, dict[str, int | None]], err: _Errors, at: tuple[Any, ...]
) -> None:
    """Objects live in one process: a name used after a restart must be made again first."""

    def need(kind: str, name: str | None) -> None:
        if name is None or name in defined[kind]:
            return
        lost = defined["lost"].get(f"{kind}:{name}")
        hint = (
            f"; it was made at line {lost}, before a restart, and only work files survive a restart"
            if lost
            else ""
        )
        raise err((*at, step.op), f"{kind} '{name}' is not defined in this segment{hint}")

    a = step.args
    if step.op in ("compile", "deserialize"):
        defined["module"][a["as"]] = step.line
    elif step.op == "serialize":
        need("module", a["module"])
    elif step.op == "instantiate":
        need("module", a["module"])
        defined["instance"][a["as"]] = step.line
        defined["store"][a["store"]] = step.line
    elif step.op == "call":
        need("instance", a["instance"])
    elif step.op == "close":
        if not a["explicit"]:  # the default order closes what this segment has
            a["order"] = [
                [kind, name]
                for kind, name in a["order"]
                if kind == "engine" or name in defined[kind]
            ]
        for kind, name in a["order"]:
            if kind != "engine":
                need(kind, name)
