"""The lifecycles `explore` tries: step sequences nobody wrote down, drawn by a hypothesis strategy.

Sequences are drawn over the fixture library and over small generated modules (a WAT grammar of
i32 arithmetic that can trap), including orders an application should not use but sometimes does:
deserialize what was never serialized, call after close, close twice, restart in the middle,
corrupt the artifact and load it. Every step is an observation (`expect: any`), so a sequence runs
until its first step that does not end ok, exactly as the scenario written out for it will. Each
op is drawn by its own function, in a fixed order of draws, so a seed gives the same sequences.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st


@dataclass(frozen=True)
class Shape:
    """What a fixture needs to be instantiated and which calls make sense on it."""

    imports: str  # none | host | wasi
    calls: tuple[tuple[str, tuple[Any, ...]], ...]


TRAP_EXPORTS = (
    "unreachable",
    "div_by_zero",
    "int_overflow",
    "oob_load",
    "oob_store",
    "stack_overflow",
    "indirect_null",
    "indirect_bad_sig",
    "bad_conversion",
)
FEATURES = ("simd", "tail_call", "multi_memory", "reference_types", "gc", "threads", "memory64")
LIBRARY: dict[str, Shape] = {
    "add": Shape("none", (("add", (1, 2)), ("add", (2147483647, 1)))),
    "traps": Shape("none", tuple((name, ()) for name in TRAP_EXPORTS)),
    "imports": Shape(
        "host",
        (
            ("call_identity_i32", (-7,)),
            ("call_identity_i64", (4886718345,)),
            ("call_identity_f32", (1.5,)),
            ("call_identity_f64", (-2.25,)),
            ("call_add_i32", (2147483647, 1)),
            ("checksum", ()),
            ("call_trap", ()),
        ),
    ),
    "memory_grow": Shape(
        "none", (("grow", (1,)), ("size", ()), ("touch", (0,)), ("grow", (70000,)))
    ),
    "wasi_hello": Shape("wasi", (("_start", ()), ("exit_with", (0,)), ("exit_with", (3,)))),
    "loop": Shape("none", (("burn", (100,)),)),
    **{f"feature_{f}": Shape("none", (("run", ()),)) for f in FEATURES},
}
GENERATED = "gen"  # generated modules are named gen_<digest>
CORRUPTIONS: tuple[dict[str, Any], ...] = (
    {"truncate": 100},
    {"truncate": -1},
    {"empty": True},
    {"flip": [0]},
    {"flip": [40]},
    {"flip": [0], "in": "code"},
)

# -- generated modules: i32 expressions that may trap -----------------------------------------

_BINARY = ("i32.add", "i32.sub", "i32.mul", "i32.div_s", "i32.div_u", "i32.rem_s", "i32.shl")
_CONSTS = (0, 1, -1, 7, 2147483647, -2147483648)


def _expression(depth: int) -> st.SearchStrategy[str]:
    leaf = st.sampled_from(_CONSTS).map(lambda c: f"(i32.const {c})")
    if depth == 0:
        return leaf
    inner = _expression(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(st.sampled_from(_BINARY), inner, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
    )


def generated_module() -> st.SearchStrategy[str]:
    """A module exporting `run` that computes an i32 expression (division may trap)."""
    return _expression(3).map(
        lambda body: f'(module\n  (func (export "run") (result i32)\n    {body}))\n'
    )


def module_name(wat: str) -> str:
    return f"{GENERATED}_{hashlib.sha256(wat.encode()).hexdigest()[:10]}"


# -- sequences -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sequence:
    steps: tuple[Any, ...]  # scenario steps, as YAML data
    modules: tuple[tuple[str, str], ...]  # generated fixtures: (name, WAT)

    def document(self, description: str) -> dict[str, Any]:
        return {"description": description, "tags": ["found"], "steps": list(self.steps)}


Draw = Callable[..., Any]  # hypothesis's `draw` in a composite strategy


@dataclass
class _Lifecycle:
    """A sequence being drawn: its steps so far, and what its current segment has made."""

    steps: list[Any] = field(default_factory=list)
    modules: dict[str, str] = field(default_factory=dict)  # generated fixtures: name -> WAT
    shape: Shape | None = None  # of the module defined in this segment
    saved: Shape | None = None  # of the module in m.cwasm, if one was serialized
    instance: bool = False

    def choices(self) -> list[str]:
        """The ops that may come next: those that need a module or an instance join once there
        is one (with an instance, `call` and `close` are listed twice, and drawn that much more
        often)."""
        choices = ["compile", "deserialize", "restart"]
        if self.shape is not None:
            choices += ["serialize", "instantiate", "close"]
        if self.instance:
            choices += ["call", "call", "close"]
        return choices


@st.composite
def sequences(draw: Draw, max_steps: int = 8) -> Sequence:
    """A lifecycle over one module name, valid for the scenario model (names are defined before
    use within a segment) but free in its order."""
    state = _Lifecycle()
    for _ in range(draw(st.integers(min_value=1, max_value=max_steps))):
        op = draw(st.sampled_from(state.choices()))
        _DRAW_STEP[op](draw, state)
    used = {
        name: wat for name, wat in state.modules.items() if any(name in str(s) for s in state.steps)
    }
    return Sequence(tuple(state.steps), tuple(sorted(used.items())))


def _draw_compile(draw: Draw, state: _Lifecycle) -> None:
    if draw(st.booleans()) and draw(st.booleans()):
        wat = draw(generated_module())
        name = module_name(wat)
        state.modules[name] = wat
        state.shape = Shape("none", (("run", ()),))
    else:
        name = draw(st.sampled_from(sorted(LIBRARY)))
        state.shape = LIBRARY[name]
    state.steps.append({"compile": {"fixture": name, "expect": "any"}})
    state.instance = False


def _draw_deserialize(draw: Draw, state: _Lifecycle) -> None:
    kind = draw(st.sampled_from(["file", "corrupt", "wasm"]))
    if kind == "wasm":  # a plain .wasm handed to deserialize
        name = draw(st.sampled_from(sorted(LIBRARY)))
        state.steps.append({"deserialize": {"wasm": name, "expect": "any"}})
        state.shape = LIBRARY[name]
    else:  # possibly never serialized: the file is missing
        body: dict[str, Any] = {"from": "m.cwasm", "expect": "any"}
        if kind == "corrupt":
            body["corrupt"] = draw(st.sampled_from(CORRUPTIONS))
        state.steps.append({"deserialize": body})
        state.shape = state.saved or LIBRARY["add"]  # never serialized: it fails, calls are moot
    state.instance = False


def _draw_serialize(draw: Draw, state: _Lifecycle) -> None:
    state.steps.append({"serialize": {"to": "m.cwasm", "expect": "any"}})
    state.saved = state.shape


def _draw_instantiate(draw: Draw, state: _Lifecycle) -> None:
    assert state.shape is not None
    body: dict[str, Any] = {"expect": "any"}
    if state.shape.imports != "none":
        body["imports"] = state.shape.imports
    state.steps.append({"instantiate": body})
    state.instance = True


def _draw_call(draw: Draw, state: _Lifecycle) -> None:
    assert state.shape is not None
    export, args = draw(st.sampled_from(state.shape.calls))
    call: dict[str, Any] = {"export": export, "expect": "any"}
    if args:
        call["args"] = list(args)
    state.steps.append({"call": call})


def _draw_close(draw: Draw, state: _Lifecycle) -> None:
    """A later call or close may use what this one closed: allowed on purpose. Closing all may
    be deferred cleanup (`always`), which runs after a step that failed, as applications do."""
    kinds = ["all", "module"] + (["instance", "store"] if state.instance else [])
    what = draw(st.sampled_from(kinds))
    if what == "all":
        deferred = {"always": True} if draw(st.booleans()) else {}
        state.steps.append({"close": {"expect": "any", **deferred}})
    else:
        state.steps.append({"close": {"order": [what], "expect": "any"}})


def _draw_restart(draw: Draw, state: _Lifecycle) -> None:
    state.steps.append("restart")
    state.shape, state.instance = None, False


_DRAW_STEP: dict[str, Callable[[Draw, _Lifecycle], None]] = {
    "compile": _draw_compile,
    "deserialize": _draw_deserialize,
    "serialize": _draw_serialize,
    "instantiate": _draw_instantiate,
    "call": _draw_call,
    "close": _draw_close,
    "restart": _draw_restart,
}
