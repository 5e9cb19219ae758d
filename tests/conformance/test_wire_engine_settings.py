"""Engine settings by name (protocol 5): compile and deserialize args' `engine.settings`, each
NAME: VALUE set on the runtime's own config as the application sets it (wasmtime:
`config.NAME = VALUE`; wazero: the RuntimeConfig method the name maps to). A name the runtime
has no setting for is `unsupported` naming it; a value it rejects is its own error.

What a runtime has is per family (SETTINGS); a family not listed has no settings by name
(wasmer-python), which the first test holds it to.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import STEP_S
from steps import call, compile_, expect, instantiate, value
from wire import Message, Worker, by_index, run_checked

from harness.execution.messages import check_command
from harness.worker.protocol import PROTOCOL_VERSION, ProtocolError

pytestmark = pytest.mark.conformance

# family -> (a setting that shows its effect: the settings, the fixture, the export, its
# results or the trap it ends with), (a value the runtime rejects, a pattern of its message)
SETTINGS: dict[str, tuple[tuple[dict[str, Any], str, str, Any], tuple[dict[str, Any], str]]] = {
    "wasmtime": (
        ({"consume_fuel": True}, "add", "add", "out_of_fuel"),  # set verbatim: no fuel given
        ({"cranelift_opt_level": "fast"}, "unknown opt level: fast"),
    ),
    "wazero": (
        ({"memory_limit_pages": 2048}, "memory_unbounded", "grow_forever", [1025]),
        ({"close_on_context_done": "yes"}, r"WithCloseOnContextDone\(bool\) takes true or false"),
    ),
}


def settings_of(runtime: Message) -> Any:
    if runtime["family"] not in SETTINGS:
        pytest.skip(f"{runtime['family']} has no engine settings by name")
    return SETTINGS[runtime["family"]]


def test_a_setting_the_runtime_lacks_is_unsupported_naming_it(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    """Before anything is made: the same settings without it then compile."""
    worker, _ = ready
    steps = [
        compile_(0, "add", engine={"settings": {"no_such_setting": 1}}),
        compile_(1, "add", as_="n"),
    ]
    steps[0]["expect"] = expect("unsupported", "no_such_setting")
    got = by_index(run_checked(worker, steps, fixtures, STEP_S))
    assert got[0]["outcome"] == "unsupported" and got[0]["met"], got[0]
    assert got[1]["outcome"] == "ok", got[1]


def test_a_setting_takes_effect(
    ready: tuple[Worker, Message], fixtures: dict[str, str], worker_runtime: Message
) -> None:
    (settings, fixture, export, outcome), _ = settings_of(worker_runtime)
    worker, _ = ready
    trap = isinstance(outcome, str)
    steps = [
        compile_(0, fixture, engine={"settings": settings}),
        instantiate(1),
        call(
            2,
            export,
            [value(1), value(2)] if fixture == "add" else [],
            results=None if trap else [value(v) for v in outcome],
            expected=expect("trap", outcome) if trap else None,
        ),
    ]
    got = by_index(run_checked(worker, steps, fixtures, STEP_S))
    assert all(r["met"] for r in got.values()), got


def test_a_value_the_runtime_rejects_is_its_own_error(
    ready: tuple[Worker, Message], fixtures: dict[str, str], worker_runtime: Message
) -> None:
    _, (settings, pattern) = settings_of(worker_runtime)
    worker, _ = ready
    steps = [compile_(0, "add", engine={"settings": settings}, expected=expect("error", pattern))]
    (failed,) = by_index(run_checked(worker, steps, fixtures, STEP_S)).values()
    assert (failed["outcome"], failed["error_kind"], failed["met"]) == ("error", "runtime", True)


def test_a_name_the_schema_refuses_is_unsupported_by_the_worker(
    ready: tuple[Worker, Message], fixtures: dict[str, str]
) -> None:
    """The coordinator does not check what it sends: a worker must not trust the schema, and
    a name that is not a setting's (`_ptr`, a private attribute) is no setting."""
    worker, _ = ready
    steps = [compile_(0, "add", engine={"settings": {"_ptr": 1}}, expected=expect("unsupported"))]
    command = {
        "name": "run_segment",
        "segment": {
            "index": 0,
            "workdir": str(worker.workdir),
            "fixtures": fixtures,
            "steps": steps,
            "protocol": PROTOCOL_VERSION,
        },
    }
    with pytest.raises(ProtocolError, match="settings"):
        check_command(command)
    worker.send_raw(json.dumps(command).encode() + b"\n")
    events = worker.read_segment(STEP_S)
    assert events[-1]["name"] == "segment_finished", f"{events[-1]}\n{worker.stderr_tail()}"
    assert by_index(events)[0]["outcome"] == "unsupported", by_index(events)[0]
