"""The runtime matrix as values: runtime names, their requirements, version order, upgrade pairs.

A runtime is named after what it pins, and the name is all there is to know about it:
`wasmtime-50.0.1`, `wasmer-1.1.0-universal-cranelift`, `wazero-1.8.2-compiler` (family,
version, then a variant). wasmtime and wasmer are PyPI packages; wazero is a Go module, run by
the Go worker built against that release (`harness.provision.go_worker`). tox.ini
lists the names; wasm-compat's tox plugin (`harness.tox_plugin`) derives each env's
requirements from them with this module, so adding a release is one line. Pure and
stdlib-only: tox's own interpreter imports it.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harness.model.variants import (
    WASMER_COMPILERS,
    WASMER_ENGINE_SUCCESSOR,
    WASMER_ENGINES,
    WAZERO_ENGINES,
    wasmer_compiler_package,
)

FAMILIES = ("wasmtime", "wasmer", "wazero")
GO_FAMILIES = ("wazero",)  # run by a Go worker: no Python package, no interpreter of their own

_VERSION = re.compile(r"\d+(?:\.\d+)*(?:[a-z]+\d*)?")


@dataclass(frozen=True, order=False)
class RuntimeSpec:
    """A pinned runtime, as named in tox.ini."""

    name: str
    family: str
    version: str
    variant: str = ""

    @property
    def requirements(self) -> list[str]:
        """What pip installs into its env (nothing for a Go worker's runtime)."""
        if self.is_go:
            return []
        if self.family == "wasmer":
            compiler = self.variant.rsplit("-", 1)[-1]
            return [
                f"wasmer=={self.version}",
                f"{wasmer_compiler_package(compiler)}=={self.version}",
            ]
        return [f"{self.family}=={self.version}"]

    @property
    def is_go(self) -> bool:
        """Run by the Go worker, built against this release, not by a Python interpreter."""
        return self.family in GO_FAMILIES

    @property
    def needs_old_python(self) -> bool:
        """wasmer 1.x publishes wheels for CPython 3.7-3.10 only."""
        return self.family == "wasmer"

    @property
    def sort_key(self) -> tuple[int, tuple[tuple[int, str], ...], str]:
        return (_family_rank(self.family), version_key(self.version), self.variant)

    @property
    def line(self) -> str:
        """Runtimes compared release to release: a family, and for wasmer one engine lineage and
        one compiler (`wasmer-1.0.0-jit-llvm` is followed by `wasmer-1.1.0-universal-llvm`)."""
        if not self.variant or self.is_go:
            return f"{self.family}-{self.variant}" if self.variant else self.family
        engine, _, compiler = self.variant.partition("-")
        engine = WASMER_ENGINE_SUCCESSOR.get(engine, engine)
        return f"{self.family}-{engine}-{compiler}" if compiler else f"{self.family}-{engine}"


def _family_rank(family: str) -> int:
    return FAMILIES.index(family) if family in FAMILIES else len(FAMILIES)


@functools.lru_cache(maxsize=4096)  # the diff asks for the same few versions thousands of times
def version_key(version: str) -> tuple[tuple[int, str], ...]:
    """Order release versions numerically (0.9 < 0.20 < 1.0 < 27.0.1 < 27.0.2); a pre-release
    suffix sorts before its release."""
    key: list[tuple[int, str]] = []
    for part in version.split("."):
        match = re.fullmatch(r"(\d+)(.*)", part)
        if match:
            key.append((int(match.group(1)), match.group(2) or "~"))
        else:
            key.append((-1, part))
    return tuple(key)


def parse_runtime_name(name: str) -> RuntimeSpec:
    """`wasmtime-50.0.1` or `wasmer-1.1.0-universal-cranelift`; ValueError says what is wrong."""
    family, _, rest = name.partition("-")
    if family not in FAMILIES:
        raise ValueError(
            f"runtime {name!r}: family must be one of {', '.join(FAMILIES)}, got {family!r}"
        )
    version, _, variant = rest.partition("-")
    if not _VERSION.fullmatch(version):
        raise ValueError(f"runtime {name!r}: expected a version after {family}-, got {version!r}")
    if family == "wasmer":
        _check_wasmer_variant(name, version, variant)
    elif family == "wazero":
        if variant not in WAZERO_ENGINES:
            raise ValueError(
                f"runtime {name!r}: wazero's variant is its engine, one of "
                f"{', '.join(WAZERO_ENGINES)}"
            )
    elif variant:
        raise ValueError(f"runtime {name!r}: {family} takes no variant, got {variant!r}")
    return RuntimeSpec(name=name, family=family, version=version, variant=variant)


def _check_wasmer_variant(name: str, version: str, variant: str) -> None:
    line = ".".join(version.split(".")[:2])
    engines = WASMER_ENGINES.get(line)
    engine, _, compiler = variant.partition("-")
    if engines is None:
        return  # a newer line: its engines are the adapter's business
    if engine not in engines or compiler not in WASMER_COMPILERS:
        raise ValueError(
            f"runtime {name!r}: wasmer {line} variants are ENGINE-COMPILER with ENGINE one of "
            f"{', '.join(engines)} and COMPILER one of {', '.join(WASMER_COMPILERS)}"
        )


def is_runtime_name(name: str) -> bool:
    return name.partition("-")[0] in FAMILIES


def expand_env_list(entries: Iterable[str]) -> list[str]:
    """tox's generative env names: `wasmtime-{0.20.0, 50.0.1}` is two envs; order kept."""
    names: list[str] = []
    for entry in entries:
        for name in _expand(entry.strip()):
            if name and name not in names:
                names.append(name)
    return names


def _expand(text: str) -> list[str]:
    match = re.search(r"\{([^{}]*)\}", text)
    if match is None:
        return [text]
    head, tail = text[: match.start()], text[match.end() :]
    return [
        name
        for choice in match.group(1).split(",")
        for name in _expand(head + choice.strip() + tail)
    ]


def split_env_list(value: str) -> list[str]:
    """An ini `env_list` value: entries separated by newlines or commas outside braces."""
    entries: list[str] = []
    depth, current = 0, ""
    for char in value:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        if depth == 0 and char in ",\n":
            entries.append(current)
            current = ""
        else:
            current += char
    entries.append(current)
    return [e.split("#", 1)[0].strip() for e in entries if e.split("#", 1)[0].strip()]


def ordered(specs: Iterable[RuntimeSpec]) -> list[RuntimeSpec]:
    return sorted(specs, key=lambda s: s.sort_key)


def matches(spec: RuntimeSpec, pattern: str) -> bool:
    """`wasmtime-33.0.0`, a glob (`wasmer-*-cranelift`), or a version prefix (`wasmtime-33`)."""
    return (
        spec.name == pattern
        or fnmatch.fnmatchcase(spec.name, pattern)
        or spec.name.startswith(pattern + ".")
        or (spec.family == pattern)
    )


def select(specs: Sequence[RuntimeSpec], patterns: Sequence[str]) -> list[RuntimeSpec]:
    """Runtimes matching any pattern, in tox.ini order; ValueError names a pattern matching none."""
    if not patterns:
        return list(specs)
    for pattern in patterns:
        if not any(matches(s, pattern) for s in specs):
            known = ", ".join(s.name for s in specs) or "none"
            raise ValueError(f"no runtime in tox.ini matches {pattern!r} (known: {known})")
    return [s for s in specs if any(matches(s, p) for p in patterns)]
