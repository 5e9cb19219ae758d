"""Declared host functions (protocol 4): the checks, their messages (the Go worker's are the
same, harness/worker/wazero/declared_test.go), and what each behaviour's body does."""

from __future__ import annotations

import math
from typing import Any

import pytest

from harness.worker.declared import DeclarationError, Declarations, declare
from harness.worker.hostlib import HOST_TRAP_MESSAGE, HostLibrary, HostTrap


def fn(params: Any, results: Any, **does: Any) -> dict[str, Any]:
    return {"params": params, "results": results, "does": does}


def body(spec: dict[str, Any], log: list[Any] | None = None) -> Any:
    return declare("env.f", spec, (log if log is not None else []).append).body


REFUSED = [
    (["env"], {"env": {"f": fn(None, None, kind="trap")}}, "params and results are lists of"),
    (["env"], {"env": {"f": fn(["v128"], [], kind="trap")}}, "params and results are lists of"),
    (["env"], {"env": {"f": {"params": [], "does": {"kind": "trap"}}}}, "a declaration has"),
    (["env"], {"env": {"f": fn([], [], kind="sleep")}}, "does.kind is one of return, arg,"),
    (["env"], {"env": {"f": fn([], [], kind="hang", ms=1)}}, "hang takes nothing besides kind"),
    (["env"], {"env": {"f": fn([], ["i32"], kind="return")}}, "return takes value besides kind"),
    (
        ["env"],
        {"env": {"f": fn(["i32", "i64"], ["i64"], kind="arg", index=2)}},
        "arg index 2 is out of range: it declares 2 param(s)",
    ),
    (["env"], {"env": {"f": fn(["i64"], ["i64"], kind="arg", index="0")}}, "arg index must be"),
    (
        ["env"],
        {"env": {"f": fn(["i32", "i64"], ["i64"], kind="arg", index=0)}},
        "arg 0 is i32, the result is i64",
    ),
    (
        ["env"],
        {"env": {"f": fn([], ["i32", "i32"], kind="return", value=1)}},
        "return needs exactly one result, it declares 2",
    ),
    (["env"], {"env": {"f": fn(["i32"], [], kind="add")}}, "add needs exactly one result"),
    (
        ["env"],
        {"env": {"f": fn(["f64", "f32"], ["f64"], kind="add")}},
        "add needs every param of the result's type f64, param 1 is f32",
    ),
    (
        ["env"],
        {"env": {"f": fn([], ["i32"], kind="return", value=2**32)}},
        "return value does not fit i32",
    ),
    (
        ["env"],
        {"env": {"f": fn([], ["i64"], kind="return", value=0.5)}},
        "return value does not fit i64",
    ),
    (
        ["env"],
        {"env": {"f": fn([], ["f32"], kind="return", value="NaN")}},
        "return value does not fit f32",
    ),
    (
        ["env"],
        {"env": {"f": fn([], ["f64"], kind="return", value=True)}},
        "return value does not fit f64",
    ),
    (
        ["env"],
        {"env": {"f": fn([], ["i32"], kind="return", value={"type": "i64", "value": 1})}},
        "return value is typed i64, the result is i32",
    ),
    (
        ["env"],
        {"env": {"f": fn(["f32"], [], kind="exit", code=None)}},
        "exit with code null exits with param 0, which must be i32 or i64",
    ),
    (["env"], {"env": {"f": fn([], [], kind="exit", code=256)}}, "exit code must be an integer"),
]


@pytest.mark.parametrize(("imports", "functions", "message"), REFUSED)
def test_an_inconsistent_declaration_names_its_import(
    imports: list[str], functions: dict[str, Any], message: str
) -> None:
    with pytest.raises(DeclarationError) as refused:
        Declarations(HostLibrary()).modules(imports, functions)
    assert str(refused.value).startswith(f"import env.f: {message}")


STEP_REFUSED = [
    (
        ["env", "other"],
        {"env": {}},
        "imports name module 'other', which functions does not declare",
    ),
    ([], {"env": {}}, "functions declares module 'env', which this step does not import"),
    (["host"], {"host": {}}, "module 'host' is the harness's own: it cannot be declared"),
    (
        ["wasi", "wasi_snapshot_preview1"],
        {"wasi_snapshot_preview1": {}},
        "module 'wasi_snapshot_preview1' is WASI's, which this segment imports too",
    ),
    (["env"], {"env": []}, "module 'env': functions maps each name to a declaration"),
]


@pytest.mark.parametrize(("imports", "functions", "message"), STEP_REFUSED)
def test_a_step_imports_the_library_wasi_or_what_it_declares(
    imports: list[str], functions: dict[str, Any], message: str
) -> None:
    with pytest.raises(DeclarationError, match=f"^{message}$"):
        Declarations(HostLibrary()).modules(imports, functions)


def test_what_a_step_links_the_library_first_then_each_declared_module() -> None:
    library = HostLibrary()
    declared = {"b": {"g": fn([], [], kind="trap")}, "a": {"f": fn([], [], kind="hang")}}
    linked = Declarations(library).modules(["b", "host", "a", "wasi"], declared)
    assert list(linked) == ["host", "a", "b"]
    assert linked["host"] is library.functions
    assert Declarations(library).modules(["wasi"], {}) == {}


def test_a_segment_keeps_each_module_s_first_declaration() -> None:
    declarations = Declarations(HostLibrary())
    first = {"env": {"f": fn([], ["i32"], kind="return", value=42)}}
    declarations.modules(["env"], first)
    declarations.modules(["env"], first)  # the same again: linked again
    other = {"env": {"f": fn([], ["i32"], kind="return", value=43)}}
    with pytest.raises(DeclarationError, match=r"^import env\.f is declared otherwise than by an"):
        declarations.modules(["env"], other)
    wider = {"env": {"f": first["env"]["f"], "g": fn([], [], kind="trap")}}
    with pytest.raises(DeclarationError, match=r"^import env\.g is declared otherwise"):
        declarations.modules(["env"], wider)
    declarations.modules(["wasi"], {})
    with pytest.raises(DeclarationError, match="'wasi_unstable' is WASI's"):
        declarations.modules(["wasi_unstable"], {"wasi_unstable": {}})


def test_return_gives_its_constant_as_the_result_s_type() -> None:
    assert body(fn([], ["i32"], kind="return", value=2**32 - 1))() == -1
    assert body(fn([], ["i64"], kind="return", value={"type": "i64", "value": 5.0}))() == 5
    assert body(fn([], ["i64"], kind="return", value={"type": None, "value": -(2**63)}))() == (
        -(2**63)
    )
    assert math.isnan(body(fn(["i32"], ["f32"], kind="return", value="nan"))(1))
    assert body(fn([], ["f64"], kind="return", value=10**400))() == math.inf
    assert body(fn([], ["f32"], kind="return", value=1))() == 1.0


def test_arg_returns_its_argument() -> None:
    assert body(fn(["i32", "f64"], ["f64"], kind="arg", index=1))(7, 2.5) == 2.5


def test_add_wraps_integers_and_sums_floats_from_the_first() -> None:
    assert body(fn(["i32"] * 3, ["i32"], kind="add"))(2**31 - 1, 1, 5) == -(2**31) + 5
    assert body(fn(["i64", "i64"], ["i64"], kind="add"))(-1, -(2**63)) == 2**63 - 1
    assert body(fn(["f64", "f64"], ["f64"], kind="add"))(0.1, 0.2) == 0.30000000000000004
    negative_zero = body(fn(["f64"], ["f64"], kind="add"))(-0.0)
    assert negative_zero == 0 and math.copysign(1, negative_zero) == -1
    assert body(fn([], ["i32"], kind="add"))() == 0


def test_record_logs_protocol_values_and_returns_zeros() -> None:
    log: list[Any] = []
    spec = fn(["i32", "f32", "f64"], ["i32", "f64", "i64"], kind="record")
    assert body(spec, log)(-3, 0.5, -math.inf) == (0, 0.0, 0)
    assert body(fn(["i64"], ["f32"], kind="record"), log)(9) == 0.0
    assert body(fn([], [], kind="record"), log)() is None
    assert log == [
        {
            "function": "env.f",
            "args": [
                {"type": "i32", "value": -3},
                {"type": "f32", "value": 0.5},
                {"type": "f64", "value": "-inf"},
            ],
        },
        {"function": "env.f", "args": [{"type": "i64", "value": 9}]},
        {"function": "env.f", "args": []},
    ]


def test_a_declared_trap_says_which_import_trapped_as_the_library_s_does() -> None:
    with pytest.raises(HostTrap) as trapped:
        body(fn(["i32"], [], kind="trap"))(1)
    assert str(trapped.value) == "host function 'env.f' was called: it is declared to trap"
    assert HOST_TRAP_MESSAGE.search(str(trapped.value))
    assert HOST_TRAP_MESSAGE.search("host function 'trap' was called")
