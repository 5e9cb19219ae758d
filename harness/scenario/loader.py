"""Read scenario files: YAML to plain data with line numbers, checked against the shipped schema.

The YAML is composed, never constructed: only plain mappings, sequences and scalars are accepted,
so a tag that would build an object (`!!python/object`) is refused rather than executed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from harness.errors import ScenarioError
from harness.scenario.model import Lines, Scenario, parse_scenario

SCENARIO_SUFFIXES = (".yaml", ".yml")
MAX_NODES = 20_000  # an alias bomb expands to millions of nodes; no real scenario comes close
MAX_BYTES = 1_000_000

_SAFE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


@cache
def schema() -> dict[str, Any]:
    text = resources.files("harness").joinpath("schema/scenario.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _validator() -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(schema())


def load_yaml(text: str, path: str) -> tuple[Any, Lines]:
    """Parse YAML into plain data, with a map from each node's path to its 1-based line."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ScenarioError(path, None, f"file is larger than {MAX_BYTES} bytes")
    try:
        loader = yaml.SafeLoader(text)  # its reader refuses control characters right away
    except yaml.reader.ReaderError as exc:
        at = text.count("\n", 0, exc.position) + 1
        problem = f"character U+{exc.character:04X} is not allowed in YAML"
        raise ScenarioError(path, at, f"invalid YAML: {problem}") from None
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ScenarioError(path, line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(path, None, f"invalid YAML: {_one_line(str(exc))}") from None
    finally:
        loader.dispose()
    if node is None:
        raise ScenarioError(path, 1, "expected a mapping with 'steps', found an empty file")
    lines: Lines = {}
    budget = [MAX_NODES]
    data = _plain(node, (), lines, loader, path, budget)
    return data, lines


def _plain(
    node: yaml.Node,
    at: tuple[Any, ...],
    lines: Lines,
    loader: yaml.SafeLoader,
    path: str,
    budget: list[int],
) -> Any:
    budget[0] -= 1
    line = node.start_mark.line + 1
    if budget[0] < 0:
        raise ScenarioError(path, line, f"more than {MAX_NODES} YAML nodes (alias expansion?)")
    if node.tag not in _SAFE_TAGS:
        raise ScenarioError(path, line, f"YAML tag {node.tag!r} is not allowed; use plain values")
    lines[at] = line
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ScenarioError(
                    path, key_node.start_mark.line + 1, "YAML merge keys are not allowed"
                )
            key = _plain(key_node, (*at, "<key>"), lines, loader, path, budget)
            if not isinstance(key, str):
                raise ScenarioError(
                    path, key_node.start_mark.line + 1, f"keys must be strings, found {key!r}"
                )
            if key in out:
                raise ScenarioError(path, key_node.start_mark.line + 1, f"duplicate key {key!r}")
            out[key] = _plain(value_node, (*at, key), lines, loader, path, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _plain(item, (*at, i), lines, loader, path, budget) for i, item in enumerate(node.value)
        ]
    value = loader.construct_object(node, deep=True)
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return value


def check_schema(data: Any, lines: Lines, path: str) -> None:
    """Raise a one-line ScenarioError for the most useful schema violation, if any."""
    errors = list(_validator().iter_errors(data))
    if not errors:
        return
    error = max(errors, key=lambda e: len(e.absolute_path))
    at = tuple(error.absolute_path)
    if len(at) == 2 and at[0] == "steps" and isinstance(at[1], int):
        message, at = _step_problem(data["steps"][at[1]], at)
    else:
        message = _describe(error)
    raise ScenarioError(path, _line_of(lines, at), f"{_context(at, data)}{message}")


def _step_problem(step: Any, at: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """A step fails `oneOf` as a whole; say which part of it is wrong."""
    if isinstance(step, str):
        if step in STEP_NAMES:
            return f"'{step}' needs its arguments as a mapping", at
        return f"unknown step {_show(step)} (expected one of {', '.join(STEP_NAMES)})", at
    if not isinstance(step, dict) or len(step) != 1:
        found = ", ".join(map(repr, step)) if isinstance(step, dict) else _show(step)
        return f"a step is a mapping with exactly one key, its op; found {found}", at
    (op,) = step
    if op not in STEP_NAMES or op == "restart":
        return f"unknown step {_show(op)} (expected one of {', '.join(STEP_NAMES)})", at
    sub = {**schema()["$defs"][op], "$defs": schema()["$defs"]}
    inner = list(jsonschema.Draft202012Validator(sub).iter_errors(step[op]))
    if not inner:  # pragma: no cover - the whole step failed, so its body must too
        return f"invalid {op} step", at
    best = jsonschema.exceptions.best_match(inner)
    while best.context:
        best = jsonschema.exceptions.best_match(best.context)
    return _describe(best), (*at, op, *best.absolute_path)


def _line_of(lines: Lines, at: tuple[Any, ...]) -> int | None:
    while at not in lines and at:
        at = at[:-1]
    return lines.get(at)


def _context(at: tuple[Any, ...], data: Any) -> str:
    if len(at) >= 2 and at[0] == "steps" and isinstance(at[1], int):
        step = data["steps"][at[1]]
        op = next(iter(step)) if isinstance(step, dict) and step else step
        label = f"step {at[1] + 1} ({op})" if isinstance(op, str) else f"step {at[1] + 1}"
        rest = [str(p) for p in at[3:]] if isinstance(step, dict) else []
        return f"{label}: " + (f"'{'.'.join(rest)}' " if rest else "")
    return f"'{'.'.join(str(p) for p in at)}': " if at else ""


def _describe(error: jsonschema.ValidationError) -> str:
    found = _show(error.instance)
    v = error.validator
    rule: Any = error.validator_value
    subschema: Any = error.schema
    if v == "type":
        expected = rule
        kinds = expected if isinstance(expected, list) else [expected]
        return f"must be {' or '.join(_article(k) for k in kinds)}, found {found}"
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
    if v == "pattern":
        return f"must match {error.validator_value}, found {found}"
    if v in ("minItems", "maxItems", "minProperties", "maxProperties"):
        return f"{v} is {error.validator_value}, found {found}"
    if v in ("minimum", "exclusiveMinimum", "maximum"):
        return f"must satisfy {v} {error.validator_value}, found {found}"
    return f"{_one_line(error.message)}"


STEP_NAMES = ("compile", "serialize", "deserialize", "instantiate", "call", "close", "restart")


def _article(kind: str) -> str:
    return {"object": "a mapping", "array": "a list", "integer": "an integer"}.get(
        kind, f"a {kind}"
    )


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def load_scenario(path: Path, root: Path | None = None) -> Scenario:
    """Load, check and model one scenario file; every problem is a one-line ScenarioError."""
    shown = _display(path, root)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(shown, None, f"cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(shown, None, f"not UTF-8 text (byte {exc.start})") from None
    data, lines = load_yaml(text, shown)
    if not isinstance(data, dict):
        raise ScenarioError(shown, 1, f"expected a mapping with 'steps', found {_show(data)}")
    check_schema(data, lines, shown)
    return parse_scenario(data, lines, shown, default_name=path.stem, text=text)


def _display(path: Path, root: Path | None) -> str:
    try:
        return str(path.resolve().relative_to((root or Path.cwd()).resolve()))
    except ValueError:
        return str(path)


def discover(paths: Iterable[Path]) -> list[Path]:
    """Scenario files under the given files and directories, sorted, without duplicates."""
    found: dict[Path, None] = {}
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.suffix in SCENARIO_SUFFIXES and f.is_file():
                    found[f] = None
        else:
            found[p] = None
    return list(found)
