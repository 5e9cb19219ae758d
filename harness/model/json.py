"""JSON as the records hold it: the value types, and reading and writing one record's object.
Stdlib only, Python 3.9 (the worker imports this package).

Each record reads the JSON that results.jsonl and compat.json hold (`from_json`, through a
`Reader`) and writes it back (`to_json`, through `json_object`) unchanged, so a dict crosses only
the store, the protocol and the reports:

- a key the record does not model is kept in `extra` and written back as it was;
- a key it models but the JSON lacked (a record of an older format, a test's minimal record)
  reads as the field's default and is listed in `missing`, so it is not written back;
- an optional key (one the writers add only when there is something to say, e.g. a step's
  `stderr_tail`) is written only when it is not None; given as null, it is kept in `extra`.

Nested JSON (a run's `params`, a step's `detail`, `expect` and returned values) is held as it
was read, not copied: treat it as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import TypeVar, Union, cast

JsonValue = Union[None, bool, int, float, str, list["JsonValue"], dict[str, "JsonValue"]]
JsonObject = dict[str, JsonValue]


class RecordError(ValueError):
    """A record whose JSON does not have the shape its format promises."""


class Word(str, Enum):
    """An enum whose members are the strings JSON holds, and print as them."""

    def __str__(self) -> str:
        return str(self.value)


_E = TypeVar("_E", bound=Word)


class Reader:
    """Reads one JSON object's keys with their types checked. An absent key reads as the default
    the caller gives; a present one must have the declared type (null only where allowed)."""

    def __init__(
        self,
        data: Mapping[str, JsonValue],
        what: str,
        always: frozenset[str],
        optional: frozenset[str],
    ) -> None:
        if not isinstance(data, Mapping):
            raise RecordError(f"{what}: expected a JSON object, got {type(data).__name__}")
        self.data, self.what = data, what
        self.always, self.optional = always, optional

    def error(self, key: str, expected: str) -> RecordError:
        got = self.data.get(key)
        return RecordError(f"{self.what}: {key!r} must be {expected}, got {got!r}")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str):
            raise self.error(key, "a string")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self.error(key, "a string or null")
        return value

    def integer(self, key: str) -> int:
        value = self.data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(key, "an integer")
        return value

    def opt_integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise self.error(key, "an integer or null")
        return value

    def number(self, key: str, default: float) -> float:
        value = self.data.get(key, default)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise self.error(key, "a number")
        return value  # as read: an int stays an int, so it is written back as one

    def opt_number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            raise self.error(key, "a number or null")
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if not isinstance(value, bool):
            raise self.error(key, "true or false")
        return value

    def opt_flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, bool):
            raise self.error(key, "true, false or null")
        return value

    def word(self, key: str, kind: type[_E], default: _E | None = None) -> _E:
        if key not in self.data and default is not None:
            return default
        try:
            return kind(self.data.get(key))
        except ValueError:
            raise self.error(key, "one of " + ", ".join(m.value for m in kind)) from None

    def mapping(self, key: str) -> Mapping[str, JsonValue]:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, "an object")
        return value

    def _list(self, key: str, null: bool) -> list[JsonValue] | None:
        value = self.data.get(key, None if null else [])
        if not isinstance(value, list) and not (null and value is None):
            raise self.error(key, "a list or null" if null else "a list")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        return self._texts(key, False) or ()

    def opt_texts(self, key: str) -> tuple[str, ...] | None:
        return self._texts(key, True)

    def _texts(self, key: str, null: bool) -> tuple[str, ...] | None:
        items = self._list(key, null)
        if items is not None and not all(isinstance(item, str) for item in items):
            raise self.error(key, "a list of strings")
        return None if items is None else tuple(cast("list[str]", items))

    def mappings(self, key: str) -> list[JsonObject]:
        return self._mappings(key, False) or []

    def opt_mappings(self, key: str) -> list[JsonObject] | None:
        return self._mappings(key, True)

    def _mappings(self, key: str, null: bool) -> list[JsonObject] | None:
        items = self._list(key, null)
        if items is not None and not all(isinstance(item, dict) for item in items):
            raise self.error(key, "a list of objects")
        return cast("list[JsonObject] | None", items)

    def missing(self, *expected_absent: str) -> frozenset[str]:
        """The modelled keys the JSON lacked (not written back), but those it is right to lack."""
        return self.always.difference(self.data, expected_absent)

    def extra(self) -> dict[str, JsonValue]:
        """Keys not modelled, and optional keys given as null (written back as they were)."""
        rest = self.data.keys() - self.always
        kept = {k for k in rest if k not in self.optional or self.data[k] is None}
        return {k: v for k, v in self.data.items() if k in kept} if kept else {}


def json_object(
    always: Sequence[tuple[str, JsonValue]],
    optional: Sequence[tuple[str, JsonValue]],
    missing: frozenset[str],
    extra: Mapping[str, JsonValue],
) -> JsonObject:
    """A record's JSON: its keys always written (but the `missing` ones), its optional keys
    that are set, and its `extra` keys as they were read."""
    out: JsonObject = {k: v for k, v in always if k not in missing}
    out.update((k, v) for k, v in optional if v is not None)
    out.update(extra)
    return out


def json_list(items: Sequence[object] | None) -> JsonValue:
    """A sequence a record holds (of strings, values, ...) as a JSON list; None stays null."""
    return None if items is None else cast("list[JsonValue]", list(items))
