"""Runtime names, version order, selection and upgrade pairs: the matrix as values."""

from __future__ import annotations

import pytest

from harness.plan import matrix
from harness.plan.matrix import RuntimeSpec, parse_runtime_name


def test_names_say_what_they_pin() -> None:
    spec = parse_runtime_name("wasmer-1.1.0-universal-cranelift")
    assert spec == RuntimeSpec(
        "wasmer-1.1.0-universal-cranelift", "wasmer", "1.1.0", "universal-cranelift"
    )
    assert spec.requirements == ["wasmer==1.1.0", "wasmer-compiler-cranelift==1.1.0"]
    assert spec.needs_old_python
    assert parse_runtime_name("wasmtime-27.0.2").requirements == ["wasmtime==27.0.2"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("wamr-1.6.0", "family must be one of wasmtime, wasmer, wazero"),
        ("wazero-1.6.0", "wazero's variant is its engine, one of compiler, interpreter"),
        ("wazero-1.6.0-jit", "wazero's variant is its engine"),
        ("wasmtime-latest", "expected a version after wasmtime-"),
        ("wasmtime-50.0.1-fast", "wasmtime takes no variant"),
        ("wasmer-1.1.0-jit-cranelift", "ENGINE one of universal, dylib"),
        ("wasmer-1.0.0-jit-gcc", "COMPILER one of cranelift, singlepass, llvm"),
        ("wasmer-1.0.0", "ENGINE-COMPILER"),
    ],
)
def test_bad_names_say_what_is_wrong(name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_runtime_name(name)


def test_versions_order_numerically() -> None:
    names = [
        "wasmtime-50.0.1",
        "wasmtime-0.9.0",
        "wasmtime-27.0.2",
        "wasmtime-0.20.0",
        "wasmtime-27.0.1",
        "wasmer-1.0.0-jit-llvm",
    ]
    ordered = [s.name for s in matrix.ordered(parse_runtime_name(n) for n in names)]
    assert ordered == [
        "wasmtime-0.9.0",
        "wasmtime-0.20.0",
        "wasmtime-27.0.1",
        "wasmtime-27.0.2",
        "wasmtime-50.0.1",
        "wasmer-1.0.0-jit-llvm",
    ]
    assert matrix.version_key("1.0.0rc1") < matrix.version_key("1.0.0")


def test_generative_env_list_expands_in_order() -> None:
    raw = """
        python39
        wasmtime-{0.20.0, 50.0.1}   # comment
        wasmer-1.0.0-{jit,native}-{cranelift, llvm}
        matrix
    """
    names = matrix.expand_env_list(matrix.split_env_list(raw))
    assert names == [
        "python39",
        "wasmtime-0.20.0",
        "wasmtime-50.0.1",
        "wasmer-1.0.0-jit-cranelift",
        "wasmer-1.0.0-jit-llvm",
        "wasmer-1.0.0-native-cranelift",
        "wasmer-1.0.0-native-llvm",
        "matrix",
    ]
    assert matrix.split_env_list("a, b-{x,y}") == ["a", "b-{x,y}"]


def test_selection_by_name_glob_prefix_family() -> None:
    specs = [
        parse_runtime_name(n)
        for n in ["wasmtime-33.0.0", "wasmtime-3.0.0", "wasmer-1.1.0-dylib-llvm"]
    ]

    def names(*patterns: str) -> list[str]:
        return [s.name for s in matrix.select(specs, patterns)]

    assert names("wasmtime-33") == ["wasmtime-33.0.0"]
    assert names("wasmtime-3") == ["wasmtime-3.0.0"]
    assert names("wasmer-*") == ["wasmer-1.1.0-dylib-llvm"]
    assert names("wasmtime") == ["wasmtime-33.0.0", "wasmtime-3.0.0"]
    assert names() == [s.name for s in specs]
    with pytest.raises(ValueError, match=r"no runtime in tox.ini matches .wasmtime-99."):
        names("wasmtime-99")


def test_a_wazero_release_is_a_go_worker_s_and_chains_with_its_own_engine() -> None:
    compiler = parse_runtime_name("wazero-1.8.2-compiler")
    assert compiler.is_go and compiler.requirements == [] and not compiler.needs_old_python
    assert compiler.line == "wazero-compiler"
    assert parse_runtime_name("wazero-1.9.0-interpreter").line == "wazero-interpreter"
    assert not parse_runtime_name("wasmtime-50.0.1").is_go
