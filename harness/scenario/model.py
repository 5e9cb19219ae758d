"""The scenario model: pure values built from checked scenario data.

A `Scenario` is what a file says; a `Case` is one parameter set of it with every `${name}`
substituted, defaults filled in and the steps split into segments at each `restart`.

This module parses a scenario and resolves it into cases: substitution, segments and the names
each segment defines. The values live in `values`, the per-op step arguments and their checks in
`steps`; the names other stages use are re-exported here.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from harness.scenario.checks import key_path, resolved_problem
from harness.scenario.imports import declared_imports, functions_for
from harness.scenario.steps import (
    FEATURES,
    PRECOMPILED_PREFIX,
    STEP_BUILDERS,
    WORKDIR,
    Errors,
    expectation,
    normalize_engine,
    split_step,
    wasm_value,
)
from harness.scenario.values import Case, Expectation, Known, Lines, Scenario, Step, params_id

__all__ = [
    "FEATURES",
    "Case",
    "Expectation",
    "Known",
    "Lines",
    "Scenario",
    "Step",
    "cases",
    "params_id",
    "parse_scenario",
    "resolve",
]

MAX_TIMEOUT_S = 86_400  # a day: a segment's limit; more is a typo (and overflows the clocks)
_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def parse_scenario(
    data: dict[str, Any],
    lines: Lines,
    path: str,
    default_name: str,
    text: str = "",
    folder: str = "",
) -> Scenario:
    """Model schema-checked data; then resolve every parameter set so mistakes surface now."""
    scenario = Scenario(
        folder=folder,
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
    timeout = data.get("timeout")
    if isinstance(timeout, (int, float)) and not 0 < timeout <= MAX_TIMEOUT_S:
        raise Errors(scenario, {})(
            ("timeout",),
            f"'timeout' must be more than 0 and at most {MAX_TIMEOUT_S} s, found {timeout!r}",
        )
    scenario = replace(scenario, known=_known(scenario))
    if scenario.upgrade and scenario.producer:
        raise Errors(scenario, {})(("producer",), "'producer' and 'upgrade' exclude each other")
    for params in scenario.param_sets:
        case = resolve(scenario, params)
        for key in ("upgrade", "producer"):
            if data.get(key) and len(case.segments) < 2:
                raise Errors(scenario, params)(
                    (key,),
                    f"'{key}' needs a `restart` step between producer and consumer",
                )
    return scenario


def _known(scenario: Scenario) -> tuple[Known, ...]:
    err = Errors(scenario, {})
    steps = scenario.data["steps"]
    names = {k for p in scenario.param_sets for k in p}
    found = []
    for n, raw in enumerate(scenario.data.get("known") or []):
        at = ("known", n)
        if "${" in json.dumps(raw.get("expect")):  # the schema's `expect` is shared with steps
            raise err(
                (*at, "expect"), "a known entry is not substituted: give its 'params' instead"
            )
        index = raw["step"] - 1
        if index >= len(steps) or split_step(steps[index])[0] == "restart":
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
                expectation(raw["expect"], err, at),
                " ".join(raw["reason"].split()),
                globs("runtime"),
                globs("producer"),
                globs("consumer"),
                params,
                _known_results(raw, steps[index], err, at),
                _known_cache(raw, steps[index], err, at),
            )
        )
    return tuple(found)


def _known_cache(raw: dict[str, Any], step: Any, err: Errors, at: tuple[Any, ...]) -> str | None:
    if "cache" not in raw:
        return None
    if split_step(step)[0] != "compile":
        raise err((*at, "cache"), "'cache' belongs to an entry about a compile step")
    return str(raw["cache"])


def _known_results(
    raw: dict[str, Any], step: Any, err: Errors, at: tuple[Any, ...]
) -> tuple[Any, ...] | None:
    """A known wrong result states the values the runtime returns: an observation alone would
    let any value through, and a wrong value is never silent."""
    if "results" not in raw:
        return None
    if split_step(step)[0] != "call":
        raise err((*at, "results"), "'results' belongs to an entry about a call step")
    return tuple(wasm_value(v, err, (*at, "results", i)) for i, v in enumerate(raw["results"]))


def cases(scenario: Scenario) -> list[Case]:
    return [resolve(scenario, params) for params in scenario.param_sets]


def resolve(scenario: Scenario, params: dict[str, Any]) -> Case:
    """Substitute one parameter set, fill defaults, split segments, check names are defined."""
    err = Errors(scenario, params)
    engine = _substituted("engine", scenario.data.get("engine") or {}, params, err, ("engine",))
    engine = normalize_engine(engine, err, ("engine",))
    segments: list[list[Step]] = [[]]
    defined: dict[str, dict[str, int | None]] = _fresh_names()
    sources = _Sources(err)
    declared = declared_imports(scenario.data.get("imports"), err)
    for index, raw in enumerate(scenario.data["steps"]):
        at = ("steps", index)
        op, body = split_step(raw)
        if op == "restart":
            segments.append([])
            defined = _fresh_names(previous=defined)
            continue
        body = _substituted(op, body, params, err, (*at, op))
        line = scenario.lines.get(at)
        if "engine" in body:
            body["engine"] = normalize_engine(body["engine"], err, (*at, op, "engine"))
        args = STEP_BUILDERS[op](body, engine, err, at)
        if op == "instantiate":  # the declared host functions of the modules it links
            args["functions"] = functions_for(args["imports"], declared, err, (*at, op, "imports"))
        sources.note(body, args, (*at, op))
        step = Step(index, op, args, expectation(body.get("expect"), err, (*at, op)), line)
        if args.get("results") is not None and step.expect.kind not in ("ok", "any"):
            raise err(
                (*at, op, "results"),
                f"`results` needs the call to return (expect ok or any), "
                f"found expect {step.expect.describe()}",
            )
        _check_names(step, defined, err, at)
        segments[-1].append(step)
    segments_ = tuple(tuple(s) for s in segments)
    return Case(scenario, dict(params), engine, segments_, tuple(sorted(sources.paths.items())))


class _Sources:
    """The modules a case's steps give by path, by the name the worker will know each by."""

    def __init__(self, err: Errors) -> None:
        self.err = err
        self.paths: dict[str, str] = {}
        self.named: set[str] = set()

    def note(self, body: dict[str, Any], args: dict[str, Any], at: tuple[Any, ...]) -> None:
        for key in ("fixture", "wasm"):
            if key not in args:
                continue
            name, spelling = args[key], body.get(key)
            if spelling is None:  # `precompiled: M` is handed over as `wasm`: see fixtures
                spelling = f"{PRECOMPILED_PREFIX}{body['precompiled']}"
            if name == spelling:
                self.named.add(name)
            else:  # `m.wasm` and `a/../m.wasm` are one file and get one name
                self.paths.setdefault(name, spelling)
            if name in self.named and name in self.paths:
                raise self.err(
                    (*at, key), f"fixture {name!r} is also the name given to {self.paths[name]!r}"
                )


def _substituted(
    definition: str, value: dict[str, Any], params: dict[str, Any], err: Errors, at: Any
) -> dict[str, Any]:
    """A step body or engine with one parameter set substituted; a value that came from a
    parameter must fit where it is used as a literal must (the file was checked with `${...}`)."""
    out: dict[str, Any] = _substitute(value, params, err, at)
    if params and out != value:
        problem = resolved_problem(definition, out)
        if problem is not None:
            message, inner = problem
            where = (*at, *inner)  # a step's keys are named from its op, the engine's in full
            label = key_path(where[3:]) if at[0] == "steps" else f"{key_path(where)[:-1]}: "
            raise err(where, f"{label}{message}")
    return out


def _substitute(value: Any, params: dict[str, Any], err: Errors, at: tuple[Any, ...]) -> Any:
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
    step: Step, defined: dict[str, dict[str, int | None]], err: Errors, at: tuple[Any, ...]
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
        need("store", a["store"])
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
