"""Typed records: a step's result, a run and a transition, with their JSON forms, importable
from one place. Stdlib only, Python 3.9 (the worker imports this package).

Each lives in a module of its own: `harness.model.json` (the JSON value types, and how a record
reads and writes its object), `harness.model.step` (`StepResult`, `Outcome`, `WasmValue`),
`harness.model.run` (`RunRecord`, its key and label, `Status`, `Summary`) and
`harness.model.transition` (`Transition`, `TransitionKind`, `Axis`).
"""

from __future__ import annotations

from harness.model.json import JsonObject, JsonValue, RecordError
from harness.model.run import (
    UPGRADE_ARROW,
    RunKey,
    RunRecord,
    Status,
    Summary,
    pair_label,
    run_key,
    run_label,
)
from harness.model.step import Outcome, StepResult, WasmValue
from harness.model.transition import Axis, Transition, TransitionKind

__all__ = [
    "UPGRADE_ARROW",
    "Axis",
    "JsonObject",
    "JsonValue",
    "Outcome",
    "RecordError",
    "RunKey",
    "RunRecord",
    "Status",
    "StepResult",
    "Summary",
    "Transition",
    "TransitionKind",
    "WasmValue",
    "pair_label",
    "run_key",
    "run_label",
]
