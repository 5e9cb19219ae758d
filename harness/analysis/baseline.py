"""The baseline: breaks a person reviewed and accepted, so CI fails only on new ones.

`compat-baseline.yaml` holds one entry per accepted break with a `reason`. A release break is
matched by scenario, parameters, runtime line and the class it broke into, and by its interval:
an accepted break between 25.0.0 and 40.0.0 still covers the break once 30.0.0 is pinned in
between. An upgrade break is matched by the producer, consumer and line of the run after it,
each of which may be a glob (`wasmtime-*`), so one entry can accept a refusal every release pair
shares on every axis of the upgrade diff (an `axis` narrows it to one). `after` is the class the
run broke into, or `wrong result`. An accepted break that no longer happens is reported (strict,
like an xfail that passes) so the file stays true.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from harness.analysis.diff import AnyTransition, as_transition, break_class
from harness.errors import HarnessError
from harness.model.record import JsonObject, JsonValue, Transition, TransitionKind
from harness.plan.matrix import parse_runtime_name, version_key

FORMAT = 1
DEFAULT_PATH = Path("compat-baseline.yaml")
ENTRY_KEYS = ("scenario", "params", "line", "upgrade", "axis", "from", "to", "after", "reason")

HEADER = """\
# wasm-compat baseline: breaks that were reviewed and accepted.
# `wasm-compat run` exits 1 only for breaks not listed here, and for entries that no longer
# happen. Fill in each `reason` (why the break is acceptable, with a link if there is one).
"""


# An entry as the baseline file holds it (ENTRY_KEYS; `load` checks them), kept as the mapping
# it is: it is written back as read, reasons and all.
Entry = dict[str, JsonValue]


class BaselineError(HarnessError):
    pass


@dataclass
class Verdict:
    new: list[Transition] = field(default_factory=list)  # breaks not in the baseline
    accepted: list[Transition] = field(default_factory=list)  # breaks the baseline covers
    stale: list[Entry] = field(default_factory=list)  # entries that no longer happen
    unchecked: list[Entry] = field(default_factory=list)  # entries this run did not cover

    def to_json(self) -> JsonObject:
        new: list[JsonValue] = [t.to_json() for t in self.new]
        accepted: list[JsonValue] = [t.to_json() for t in self.accepted]
        stale: list[JsonValue] = list(self.stale)
        unchecked: list[JsonValue] = list(self.unchecked)
        return {
            "new_breaks": new,
            "accepted_breaks": accepted,
            "stale_entries": stale,
            "unchecked_entries": unchecked,
        }


def _version(name: str) -> tuple[tuple[int, str], ...]:
    try:
        return version_key(parse_runtime_name(name).version)
    except ValueError:
        return version_key("0")


def _same_case(entry: Mapping[str, JsonValue], t: Transition) -> bool:
    # An upgrade entry may name its line (and pairs, below) with globs: one entry can accept
    # "every wasmtime release refuses every other release's artifact".
    line = str(entry["line"])
    return bool(
        entry["scenario"] == t.scenario
        and (entry.get("params") or "") == t.params
        and bool(entry.get("upgrade")) == t.upgrade
        and (fnmatchcase(t.line, line) if t.upgrade else line == t.line)
        and entry.get("axis") in (None, t.axis.value)  # no axis: the entry holds on every axis
    )


def _within(entry: Mapping[str, JsonValue], t: Transition) -> bool:
    if t.upgrade:
        return fnmatchcase(t.from_, str(entry["from"])) and fnmatchcase(t.to, str(entry["to"]))
    low, high = _version(str(entry["from"])), _version(str(entry["to"]))
    return low <= _version(t.from_) and _version(t.to) <= high


def covers(entry: Mapping[str, JsonValue], t: AnyTransition) -> bool:
    t = as_transition(t)
    return (
        t.kind is TransitionKind.BREAK
        and _same_case(entry, t)
        and _within(entry, t)
        and entry.get("after") == break_class(t)
    )


def judge(transitions: Sequence[AnyTransition], entries: Sequence[Entry]) -> Verdict:
    typed = [as_transition(t) for t in transitions]
    verdict = Verdict()
    for t in typed:
        if t.kind is not TransitionKind.BREAK:
            continue
        if any(covers(e, t) for e in entries):
            verdict.accepted.append(t)
        else:
            verdict.new.append(t)
    for entry in entries:
        compared = [t for t in typed if _same_case(entry, t) and _within(entry, t)]
        if not compared:
            verdict.unchecked.append(entry)
        elif not any(covers(entry, t) for t in compared):
            verdict.stale.append(entry)
    return verdict


def entry_for(t: AnyTransition, reason: str = "") -> Entry:
    t = as_transition(t)
    return {
        "scenario": t.scenario,
        "params": t.params,
        "line": t.line,
        "upgrade": t.upgrade,
        "from": t.from_,
        "to": t.to,
        "after": break_class(t),
        "reason": reason,
    }


def accept(transitions: Sequence[AnyTransition], existing: Sequence[Entry]) -> list[Entry]:
    """Entries for every current break, keeping the reason of an entry that already covered it."""
    entries = []
    for t in map(as_transition, transitions):
        if t.kind is not TransitionKind.BREAK:
            continue
        reason = next((e.get("reason") or "" for e in existing if covers(e, t)), "")
        entry = entry_for(t, str(reason))
        if entry not in entries:
            entries.append(entry)
    return entries


def load(path: Path) -> list[Entry]:
    """Entries of a baseline file; a missing file is an empty baseline."""
    if not path.exists():
        return []
    try:
        loader = yaml.SafeLoader(path.read_text(encoding="utf-8"))
        try:  # one parse: the nodes give each entry's line, the data is built from them
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise BaselineError(f"{path}{where}: {problem}") from None
    if data is None:
        return []
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BaselineError(
            f"{path}:1: expected a mapping with `format: {FORMAT}` and `accepted:` "
            "(write one with `wasm-compat baseline accept`)"
        )
    accepted = data.get("accepted") or []
    nodes = _entry_nodes(root)
    if not isinstance(accepted, list):
        raise BaselineError(f"{path}: `accepted` must be a list of entries")
    for index, entry in enumerate(accepted):
        line = nodes[index].start_mark.line + 1 if index < len(nodes) else 1
        _check_entry(path, line, entry)
    return accepted


def _entry_nodes(root: Any) -> list[Any]:
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "accepted" and isinstance(value, yaml.SequenceNode):
            return list(value.value)
    return []


def _check_entry(path: Path, line: int, entry: Any) -> None:
    if not isinstance(entry, dict):
        raise BaselineError(f"{path}:{line}: an entry must be a mapping")
    missing = [k for k in ("scenario", "line", "from", "to", "after") if k not in entry]
    if missing:
        raise BaselineError(f"{path}:{line}: entry lacks {', '.join(missing)}")
    unknown = sorted(set(entry) - set(ENTRY_KEYS))
    if unknown:
        raise BaselineError(
            f"{path}:{line}: unknown key(s) {', '.join(unknown)}; "
            f"an entry has {', '.join(ENTRY_KEYS)}"
        )


def dump(entries: Sequence[Entry]) -> str:
    body = yaml.safe_dump(
        {"format": FORMAT, "accepted": list(entries)},
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    return HEADER + body


def save(path: Path, entries: Sequence[Entry]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dump(entries), encoding="utf-8")
    tmp.replace(path)
