"""The stages import only downward: the path of `wasm-compat run` reads top-down."""

from __future__ import annotations

import ast
from pathlib import Path

HARNESS = Path(__file__).resolve().parent.parent / "harness"

# Top to bottom; a stage may import its own modules and any stage below it, never one above.
# Stages on one line are siblings and do not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__",),
    ("cli", "pytest_plugin", "tox_plugin"),
    ("search", "reuse"),
    ("execution",),
    ("provision", "store", "report"),
    ("analysis",),
    ("scenario", "plan"),
    ("worker",),
    ("model",),
    ("host", "errors", "paths"),
    ("__init__",),  # the package itself: its version
)
RANK = {stage: rank for rank, stages in enumerate(LAYERS) for stage in stages}


def stage_of(module: str) -> str:
    """`harness.analysis.diff` -> `analysis`; `harness` itself (its version) -> `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "harness":
                found |= {f"harness.{alias.name}" for alias in node.names}
            elif node.module.startswith("harness."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "harness"}
    return found


def test_every_module_belongs_to_a_stage() -> None:
    for path in HARNESS.rglob("*.py"):
        stage = path.relative_to(HARNESS).with_suffix("").parts[0]
        assert stage in RANK, f"{path}: in no stage of LAYERS"


def test_no_module_imports_a_stage_above_it_or_beside_it() -> None:
    upward = []
    for path in HARNESS.rglob("*.py"):
        stage = path.relative_to(HARNESS).with_suffix("").parts[0]
        for module in imports(path):
            target = stage_of(module)
            if target != stage and RANK[target] <= RANK[stage]:
                upward.append(f"{path.relative_to(HARNESS)} imports {module}")
    assert upward == []
