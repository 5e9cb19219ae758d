"""Runtime variants, read by the run plan (which names are valid, which releases chain into a
line), the adapters and bisect. wazero's are its two engines (the Go worker's `--variant`).
wasmer's are `ENGINE-COMPILER`: the engines of each release line (which class of
`wasmer.engine` a name means; 1.0's names for 1.1's engines) and the compilers. Stdlib only,
Python 3.9: the worker imports it.
"""

from __future__ import annotations

# Per release line, newest first: its engines, by the name a variant uses, with the class of
# `wasmer.engine` each one is; the line's default engine first.
WASMER_ENGINES: dict[str, dict[str, str]] = {
    "1.1": {"universal": "Universal", "dylib": "Dylib"},
    "1.0": {"jit": "JIT", "native": "Native"},
}
# 1.1 renamed the engines (keeping 1.0's names as aliases); a renamed engine continues its
# predecessor's line.
WASMER_ENGINE_SUCCESSOR = {"jit": "universal", "native": "dylib"}
WASMER_COMPILERS = ("cranelift", "singlepass", "llvm")  # also the order an empty variant tries

# Every engine name, newest line first, and its class.
WASMER_ENGINE_CLASSES = {
    name: cls for engines in WASMER_ENGINES.values() for name, cls in engines.items()
}
# Each line's default engine, newest first: a release without a variant takes the first it has.
WASMER_DEFAULT_ENGINES = tuple(next(iter(engines)) for engines in WASMER_ENGINES.values())


def wasmer_compiler_package(compiler: str) -> str:
    """The distribution that holds a compiler: wasmer-compiler-cranelift."""
    return "wasmer-compiler-" + compiler


# wazero's engines (`wazero.NewRuntimeConfigCompiler` / `...Interpreter`): a variant each.
WAZERO_ENGINES = ("compiler", "interpreter")
