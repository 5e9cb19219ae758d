"""The scenario model's values: a `Scenario` as its file says it, a `Case` (one parameter set of
it, resolved), their `Step`s, each step's `Expectation`, and the `Known` entries that stand in for
an expectation on some runtimes. Pure and frozen; `model` builds them from checked data.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

Lines = dict[tuple[Any, ...], int]

DEFAULT_MODULE = "m"
DEFAULT_INSTANCE = "i"
DEFAULT_STORE = "s"
CLOSE_ORDER = ("instance", "store", "module", "engine")


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
    cache: str | None = None  # what its cache directory is known to show instead

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
    folder: str = ""  # the file's directory, absolute: a module path is relative to it

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
    # the fixtures given by path: the name a step uses, and the path as the scenario wrote it
    sources: tuple[tuple[str, str], ...] = ()

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

    @property
    def named_fixtures(self) -> set[str]:
        """The fixtures it names in wasm_fixtures/; the others it gives by path."""
        return self.fixtures - {name for name, _ in self.sources}


def params_id(params: dict[str, Any]) -> str:
    return ",".join(f"{k}={params[k]}" for k in sorted(params))
