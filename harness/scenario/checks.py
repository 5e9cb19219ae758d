"""The shipped scenario JSON Schema, and the one-line message for what breaks it.

A file is checked twice: as written (where `${name}` may stand for any scalar of the steps and
the engine), and, for each parameter set, every step or engine that a substitution changed, with
`${name}` no longer allowed: a parameter's value must fit where it is used, as a literal must.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from harness.errors import ScenarioError

Lines = dict[tuple[Any, ...], int]

STEP_NAMES = ("compile", "serialize", "deserialize", "instantiate", "call", "close", "restart")
# the words YAML 1.1 read as booleans; scenarios are read as YAML 1.2, where they are strings
YAML11_BOOLEANS = frozenset({"y", "yes", "n", "no", "on", "off"})


@cache
def schema() -> dict[str, Any]:
    text = resources.files("harness").joinpath("schema/scenario.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


_PARAM_REF = {"$ref": "#/$defs/param_ref"}


@cache
def _resolved_schema() -> dict[str, Any]:
    """The schema for values after substitution: each `oneOf` without its `${name}` choice, so
    a value that does not fit is described as a literal would be."""
    resolved: dict[str, Any] = _without_refs(copy.deepcopy(schema()))
    return resolved


def _without_refs(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_refs(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _without_refs(value) for key, value in node.items()}
    choices = node.get("oneOf")
    if isinstance(choices, list) and _PARAM_REF in choices:
        kept = [c for c in choices if c != _PARAM_REF]
        del node["oneOf"]
        node.update(kept[0] if len(kept) == 1 else {"oneOf": kept})
    return node


def _validator() -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(schema())


def check_schema(data: Any, lines: Lines, path: str) -> None:
    """Raise a one-line ScenarioError for the most useful schema violation, if any."""
    errors = list(_validator().iter_errors(data))
    if not errors:
        return
    error = max(errors, key=lambda e: len(e.absolute_path))
    at = tuple(error.absolute_path)
    if len(at) == 2 and at[0] == "steps" and isinstance(at[1], int):
        message, at = step_problem(data["steps"][at[1]], at)
    else:
        error = _best([error])  # a `oneOf` says which of its choices came nearest
        at = tuple(error.absolute_path)
        message = _describe(error)
    raise ScenarioError(path, _line_of(lines, at), f"{_context(at, data)}{message}")


def step_problem(
    step: Any, at: tuple[Any, ...], resolved: bool = False
) -> tuple[str, tuple[Any, ...]]:
    """A step fails `oneOf` as a whole; say which part of it is wrong."""
    if isinstance(step, str):
        if step in STEP_NAMES:
            return f"'{step}' needs its arguments as a mapping", at
        return f"unknown step {show(step)} (expected one of {', '.join(STEP_NAMES)})", at
    if not isinstance(step, dict) or len(step) != 1:
        found = ", ".join(map(repr, step)) if isinstance(step, dict) else show(step)
        return f"a step is a mapping with exactly one key, its op; found {found}", at
    (op,) = step
    if op not in STEP_NAMES or op == "restart":
        return f"unknown step {show(op)} (expected one of {', '.join(STEP_NAMES)})", at
    problem = resolved_problem(op, step[op]) if resolved else _problem(schema(), op, step[op])
    if problem is None:  # pragma: no cover - the whole step failed, so its body must too
        return f"invalid {op} step", at
    message, inner = problem
    return message, (*at, op, *inner)


def resolved_problem(definition: str, value: Any) -> tuple[str, tuple[Any, ...]] | None:
    """What is wrong with a step body (`definition` is its op) or an engine once parameters are
    substituted, as (message, path inside it), or None."""
    return _problem(_resolved_schema(), definition, value)


def _problem(
    whole: dict[str, Any], definition: str, value: Any
) -> tuple[str, tuple[Any, ...]] | None:
    sub = {**whole["$defs"][definition], "$defs": whole["$defs"]}
    errors = list(jsonschema.Draft202012Validator(sub).iter_errors(value))
    if not errors:
        return None
    best = _best(errors)
    while best.context:
        best = _best(best.context)
    return _describe(best), tuple(best.absolute_path)


def _best(errors: Iterable[jsonschema.ValidationError]) -> jsonschema.ValidationError:
    """The error to describe; that a value is not a `${name}` is rarely the news."""
    ref = schema()["$defs"]["param_ref"]

    def key(error: jsonschema.ValidationError) -> tuple[bool, Any]:
        # best_match takes the most relevant of a context by the smallest key: a `${name}`
        # choice goes last
        return (error.schema == ref, jsonschema.exceptions.relevance(error))

    errors = list(errors)
    best: jsonschema.ValidationError = jsonschema.exceptions.best_match(
        [e for e in errors if e.schema != ref] or errors, key
    )
    return best


def key_path(inner: tuple[Any, ...]) -> str:
    """`'corrupt.flip.0' `: where in a step a value is, as a message names it."""
    return f"'{'.'.join(str(p) for p in inner)}' " if inner else ""


def _line_of(lines: Lines, at: tuple[Any, ...]) -> int | None:
    while at not in lines and at:
        at = at[:-1]
    return lines.get(at)


def _context(at: tuple[Any, ...], data: Any) -> str:
    if len(at) >= 2 and at[0] == "steps" and isinstance(at[1], int):
        step = data["steps"][at[1]]
        op = next(iter(step)) if isinstance(step, dict) and step else step
        label = f"step {at[1] + 1} ({op})" if isinstance(op, str) else f"step {at[1] + 1}"
        return f"{label}: " + (key_path(at[3:]) if isinstance(step, dict) else "")
    return f"'{'.'.join(str(p) for p in at)}': " if at else ""


def _describe(error: jsonschema.ValidationError) -> str:
    found = show(error.instance)
    v = error.validator
    rule: Any = error.validator_value
    subschema: Any = error.schema
    if v == "type":
        kinds = rule if isinstance(rule, list) else [rule]
        hint = ""
        if "boolean" in kinds and str(error.instance).lower() in YAML11_BOOLEANS:
            hint = " (scenarios are read as YAML 1.2: write true or false)"
        return f"must be {' or '.join(_article(k) for k in kinds)}, found {found}{hint}"
    if v == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return f"missing required key '{missing[0] if missing else error.validator_value}'"
    if v == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message.split("(")[-1])
        allowed = sorted((subschema.get("properties") or {}).keys())
        keys = ", ".join(repr(e) for e in extra)
        return f"unknown key {keys} (expected one of {', '.join(allowed)})"
    if v in ("enum", "const"):
        options = rule if v == "enum" else [rule]
        return f"must be one of {', '.join(map(str, options))}, found {found}"
    if v == "oneOf" and error.absolute_path and error.absolute_path[0] == "steps":
        return f"unknown step {found} (expected one of {', '.join(STEP_NAMES)})"
    if v == "pattern" and subschema == schema()["$defs"]["fixture"]:
        return f"must be a fixture name (a-z, 0-9, _) or a path to a .wasm or .wat, found {found}"
    if v == "pattern":
        return f"must match {error.validator_value}, found {found}"
    if v in ("minItems", "maxItems", "minProperties", "maxProperties"):
        return f"{v} is {error.validator_value}, found {found}"
    if v in ("minimum", "exclusiveMinimum", "maximum"):
        return f"must satisfy {v} {error.validator_value}, found {found}"
    return f"{one_line(error.message)}"


def _article(kind: str) -> str:
    return {"object": "a mapping", "array": "a list", "integer": "an integer"}.get(
        kind, f"a {kind}"
    )


def show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def one_line(text: str) -> str:
    return " ".join(text.split())[:300]
