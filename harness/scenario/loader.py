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

Booleans are YAML 1.2's, `true` and `false` (any case): YAML 1.1 also read `yes`, `no`, `on`,
`off`, `y` and `n`, so a parameter named `off` became the key False. Here they are the strings
they look like, in the whole file; where a boolean is expected, the schema says to write true.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ScenarioError
from harness.scenario.checks import check_schema, one_line, show
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
_BOOL_TAG = "tag:yaml.org,2002:bool"
# a `${name}` outside quotes: inside `[...]` or `{...}` its braces end the plain scalar
_BARE_REF = re.compile(r"(?<![\"'])\$\{[A-Za-z_][A-Za-z0-9_]*\}")


class Yaml12Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's booleans: `yes`, `no`, `on`, `off`, `y`, `n` are
    strings, so a parameter may be named `off` and a value of `no` stays the word."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(text: str, path: str) -> tuple[Any, Lines]:
    """Parse YAML into plain data, with a map from each node's path to its 1-based line."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise ScenarioError(
            path, None, f"file is {size} bytes, more than the {MAX_BYTES} a scenario may have"
        )
    try:
        _check_depth(text, path)
        loader = Yaml12Loader(text)  # its reader refuses control characters right away
    except yaml.reader.ReaderError as exc:
        at = text.count("\n", 0, exc.position) + 1
        problem = f"character U+{exc.character:04X} is not allowed in YAML"
        raise ScenarioError(path, at, f"invalid YAML: {problem}") from None
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, path, text) from None
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, path, text) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(path, None, f"invalid YAML: {one_line(str(exc))}") from None
    finally:
        loader.dispose()
    if node is None:
        raise ScenarioError(path, 1, "expected a mapping with 'steps', found an empty file")
    lines: Lines = {}
    walk = _Walk(loader, path, lines)
    data = walk.plain(node, ())
    return data, lines


def _yaml_error(exc: yaml.MarkedYAMLError, path: str, text: str) -> ScenarioError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    problem = exc.problem or exc.context or "invalid YAML"
    rows = text.splitlines()
    bare = _BARE_REF.search(rows[mark.line]) if mark and mark.line < len(rows) else None
    if bare:  # `flip: [${off}]`: the most likely reason, and its fix
        problem += f' (inside [...] or {{...}}, quote a parameter: "{bare.group(0)}")'
    return ScenarioError(path, line, f"invalid YAML: {problem}")


# libyaml's parser where PyYAML has it (ten times faster: the depth check reads every event of
# every file on every run), the pure-Python one where not.
_EVENTS = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_depth(text: str, path: str) -> None:
    """Refuse nesting past MAX_DEPTH from the parser's events, which come without recursion,
    before the composer recurses into it."""
    try:
        _count_depth(yaml.parse(text, Loader=_EVENTS), path)
    except yaml.YAMLError:
        # libyaml refused it (in its own words, or at its own depth limit): count again with
        # the pure-Python parser, whose errors the loader words as it always has
        _count_depth(yaml.parse(text, Loader=yaml.SafeLoader), path)


def _count_depth(events: Iterator[yaml.Event], path: str) -> None:
    depth = 0
    for event in events:
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
                raise self.error(key_node, f"keys must be strings, found {show(key)}")
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
        raise ScenarioError(shown, 1, f"expected a mapping with 'steps', found {show(data)}")
    check_schema(data, lines, shown)
    folder = str(path.resolve().parent)  # where a module given by path is found from
    return parse_scenario(data, lines, shown, default_name=path.stem, text=text, folder=folder)


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
