"""Read scenario files: YAML to plain data with line numbers, checked against the shipped schema.

The YAML is composed, never constructed: only plain mappings, sequences and scalars are accepted,
so a tag that would build an object (`!!python/object`) is refused rather than executed.

A file is read within explicit limits, each refused with a one-line `path:line:` error before it
can cost more than it says (the parser's events are scanned before anything is composed, as
PyYAML's composer recurses once per level):

    MAX_BYTES         4 MiB of text: 25,000 steps of a line each take 0.3 to 1 MB
    MAX_DEPTH         64 levels of nesting, aliases expanded: a real scenario nests 8 deep
    MAX_NODES         250,000 nodes, aliases expanded: 25,000 steps of up to 10 nodes each
                      (the largest bundled scenario has 40 steps; 25,000 take ~20 s to check);
                      an alias bomb (billion laughs) expands far past it and is refused as such
    MAX_NUMBER_CHARS  64 characters in a number: an i64 takes 20, a float 24 (Python refuses
                      to convert an integer of more than 4300 digits)
An alias that contains itself (`steps: &a [*a]`) is refused where it is used.
"""

from __future__ import annotations

import json
import math
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
MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 250_000
MAX_NUMBER_CHARS = 64
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
# how YAML spells the non-finite floats it means; any other float that comes out non-finite
# (`1.0e+400`) is a number out of range, not a spelling of infinity
_NON_FINITE = re.compile(r"^[-+]?\.(inf|Inf|INF|nan|NaN|NAN)$")

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
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise ScenarioError(
            path, None, f"file is {size} bytes, more than the {MAX_BYTES} a scenario may have"
        )
    try:
        _check_depth(text, path)
        loader = yaml.SafeLoader(text)  # its reader refuses control characters right away
    except yaml.reader.ReaderError as exc:
        at = text.count("\n", 0, exc.position) + 1
        problem = f"character U+{exc.character:04X} is not allowed in YAML"
        raise ScenarioError(path, at, f"invalid YAML: {problem}") from None
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, path) from None
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, path) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(path, None, f"invalid YAML: {_one_line(str(exc))}") from None
    finally:
        loader.dispose()
    if node is None:
        raise ScenarioError(path, 1, "expected a mapping with 'steps', found an empty file")
    lines: Lines = {}
    walk = _Walk(loader, path, lines)
    data = walk.plain(node, ())
    return data, lines


def _yaml_error(exc: yaml.MarkedYAMLError, path: str) -> ScenarioError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    problem = exc.problem or exc.context or "invalid YAML"
    return ScenarioError(path, line, f"invalid YAML: {problem}")


def _check_depth(text: str, path: str) -> None:
    """Refuse nesting past MAX_DEPTH from the parser's events, which come without recursion,
    before the composer recurses into it."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise ScenarioError(
                    path,
                    event.start_mark.line + 1 if event.start_mark else None,
                    f"nested more than {MAX_DEPTH} levels deep (a scenario needs a few)",
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


class _Walk:
    """Turns composed nodes into plain data within the node and depth limits, aliases expanded."""

    def __init__(self, loader: yaml.SafeLoader, path: str, lines: Lines) -> None:
        self.loader = loader
        self.path = path
        self.lines = lines
        self.left = MAX_NODES
        self.open: set[int] = set()  # the collections being walked: an alias to one is a cycle
        self.seen: set[int] = set()  # every collection walked: walking one again is an alias
        self.repeated = False

    def error(self, node: yaml.Node, message: str) -> ScenarioError:
        return ScenarioError(self.path, node.start_mark.line + 1, message)

    def plain(self, node: yaml.Node, at: tuple[Any, ...], depth: int = 1) -> Any:
        self.left -= 1
        if self.left < 0:
            why = " once its aliases are expanded (an alias bomb?)" if self.repeated else ""
            raise self.error(node, f"more than {MAX_NODES} YAML nodes{why}; a scenario is smaller")
        if depth > MAX_DEPTH:
            raise self.error(node, f"nested more than {MAX_DEPTH} levels deep, aliases expanded")
        if node.tag not in _SAFE_TAGS:
            raise self.error(node, f"YAML tag {node.tag!r} is not allowed; use plain values")
        self.lines[at] = node.start_mark.line + 1
        if isinstance(node, yaml.CollectionNode):
            if id(node) in self.open:
                raise self.error(node, "an alias refers to a node that contains it (a cycle)")
            self.repeated = self.repeated or id(node) in self.seen
            self.open.add(id(node))
            try:
                return self._collection(node, at, depth)
            finally:
                self.open.discard(id(node))
                self.seen.add(id(node))
        return self._scalar(node)

    def _collection(self, node: yaml.CollectionNode, at: tuple[Any, ...], depth: int) -> Any:
        if isinstance(node, yaml.SequenceNode):
            return [self.plain(item, (*at, i), depth + 1) for i, item in enumerate(node.value)]
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self.error(key_node, "YAML merge keys are not allowed")
            key = self.plain(key_node, (*at, "<key>"), depth + 1)
            if not isinstance(key, str):
                raise self.error(key_node, f"keys must be strings, found {_show(key)}")
            if key in out:
                raise self.error(key_node, f"duplicate key {key!r}")
            out[key] = self.plain(value_node, (*at, key), depth + 1)
        return out

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag in _NUMBER_TAGS and len(node.value) > MAX_NUMBER_CHARS:
            raise self.error(
                node,
                f"a number of {len(node.value)} characters, more than the {MAX_NUMBER_CHARS} "
                f"any wasm value needs",
            )
        value = self.loader.construct_object(node, deep=True)
        if isinstance(value, float) and not math.isfinite(value):
            if not _NON_FINITE.match(node.value):
                raise self.error(node, f"number {node.value} is out of range of a float")
            if value != value:
                return "nan"
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
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(shown, line, f"not UTF-8 text (byte {exc.start})") from None
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
