"""Protocol messages checked against the JSON Schema files that define them.

The schemas ship in the package (`harness/schema/protocol/`, draft 2020-12): one file per
message, shared definitions in `common.json`, and one file per stream (`events.json`,
`commands.json`, and the fork server's `control_events.json`, `control_commands.json`) that
names the messages allowed on it. A worker in any language is held to the same files by the
conformance suite (`tests/conformance/`).

`check_event` and `check_command` raise `ProtocolError` with one line that names the message
and the offending field:

    step_finished: result.outcome: 'okay' is not one of ['ok', 'error', 'unsupported', 'not_run']
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any, Literal

import jsonschema
import jsonschema_rs

from harness.worker.protocol import ProtocolError

SCHEMA_DIR = "schema/protocol"

Channel = Literal["segment", "control"]
# The schema file that lists the messages allowed on each (channel, direction).
STREAMS: dict[tuple[str, str], str] = {
    ("segment", "event"): "events.json",
    ("segment", "command"): "commands.json",
    ("control", "event"): "control_events.json",
    ("control", "command"): "control_commands.json",
}
_SHOWN = 160  # characters of a value quoted in an error


def check_event(message: dict[str, Any], channel: Channel = "segment") -> None:
    """Raise ProtocolError unless `message` is an event of `channel` that its schema admits."""
    _check(message, channel, "event")


def check_command(message: dict[str, Any], channel: Channel = "segment") -> None:
    """Raise ProtocolError unless `message` is a command of `channel` that its schema admits."""
    _check(message, channel, "command")


def message_names(channel: Channel, direction: Literal["event", "command"]) -> tuple[str, ...]:
    """The messages a stream allows, as its schema file lists them."""
    names: list[str] = schema(STREAMS[channel, direction])["properties"]["name"]["enum"]
    return tuple(names)


def schema_files() -> list[str]:
    """Every schema file of the protocol, by name."""
    folder = resources.files("harness").joinpath(SCHEMA_DIR)
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".json"))


@cache
def schema(filename: str) -> dict[str, Any]:
    text = resources.files("harness").joinpath(SCHEMA_DIR, filename).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _check(message: Any, channel: Channel, direction: Literal["event", "command"]) -> None:
    name = message.get("name") if isinstance(message, dict) else None
    if not isinstance(name, str):
        raise ProtocolError(f"a message must be an object with a name, got {_show(message)}")
    allowed = message_names(channel, direction)
    if name not in allowed:
        raise ProtocolError(
            f"{name}: not {'an' if direction == 'event' else 'a'} {direction} of the "
            f"{channel} stream (its {direction}s: {', '.join(allowed)})"
        )
    if _fast_validator(name).is_valid(message):
        return
    error = jsonschema.exceptions.best_match(_validator(name).iter_errors(message))
    if error is not None:
        raise ProtocolError(_describe(name, error))


@cache
def _fast_validator(name: str) -> Any:
    """The same schema compiled by jsonschema-rs, which tells a valid message in microseconds:
    the coordinator checks every event of every segment (a step's result took 1.3 ms with
    jsonschema, some 30 s of CPU on a full matrix). A message it refuses is then examined by
    jsonschema, whose errors `_describe` words (and whose verdict stands)."""
    return jsonschema_rs.validator_for(_inline(schema(f"{name}.json"), f"{name}.json"))


@cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    """A validator for one message, built once, with every `$ref` replaced by what it names:
    resolving references at each validation would crawl the schemas again every time."""
    inlined = _inline(schema(f"{name}.json"), f"{name}.json")
    validator: jsonschema.protocols.Validator = jsonschema.Draft202012Validator(inlined)
    return validator


def _inline(node: Any, document: str) -> Any:
    """`node` of the file `document` with its references resolved (the schemas have no cycles)."""
    if isinstance(node, list):
        return [_inline(item, document) for item in node]
    if not isinstance(node, dict):
        return node
    if not isinstance(node.get("$ref"), str):
        return {key: _inline(value, document) for key, value in node.items()}
    target, _, pointer = node["$ref"].partition("#")
    target = target or document
    resolved: Any = schema(target)
    for part in (p for p in pointer.split("/") if p):
        resolved = resolved[part.replace("~1", "/").replace("~0", "~")]
    resolved = {k: v for k, v in resolved.items() if k not in ("$schema", "$id", "$defs")}
    referenced = _inline(resolved, target)
    rest = {key: _inline(value, document) for key, value in node.items() if key != "$ref"}
    return {**rest, "allOf": [*rest.get("allOf", []), referenced]} if rest else referenced


def _describe(name: str, error: jsonschema.ValidationError) -> str:
    where = _path(error.absolute_path)
    text = " ".join(error.message.split())
    if len(text) > 2 * _SHOWN:
        text = text[: 2 * _SHOWN] + "…"
    return f"{name}: {where}: {text}" if where else f"{name}: {text}"


def _path(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
