"""The protocol's JSON Schema files, and the checks the coordinator makes with them.

The schemas must admit every message the harness really sends (commands built from the bundled
scenarios, events of a real worker and a real fork server) and refuse a broken one with one
line that names the message and the field.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.execution import messages
from harness.execution.messages import check_command, check_event
from harness.execution.pool import WorkerPool
from harness.scenario.fixtures import FixtureBuilder
from harness.scenario.loader import load_scenario
from harness.scenario.model import FEATURES, Case, cases
from harness.worker.protocol import COMMANDS, EVENTS, PROTOCOL_VERSION, ProtocolError

ROOT = Path(__file__).resolve().parents[3]
SCHEMAS = ROOT / "harness" / "schema" / "protocol"
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
STREAMS = ("commands.json", "events.json", "control_commands.json", "control_events.json")
WORKER = [sys.executable, "-m", "harness.worker", "--memory-mb", "2048"]


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    """The coordinator's worker path and environment (the test reads the worker's raw wire)."""
    with WorkerPool() as opened:
        yield opened


def load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / name).read_text())
    return loaded


# -- the files ---------------------------------------------------------------------------------
def test_every_schema_file_is_a_valid_draft_2020_12_schema() -> None:
    files = sorted(p.name for p in SCHEMAS.glob("*.json"))
    assert files == messages.schema_files()
    for name in files:
        schema = load(name)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        jsonschema.Draft202012Validator.check_schema(schema)


def test_every_message_has_its_own_file_and_a_stream_that_allows_it() -> None:
    named = {n for stream in STREAMS for n in load(stream)["properties"]["name"]["enum"]}
    assert named == set(COMMANDS) | set(EVENTS)
    for name in named:
        assert load(f"{name}.json")["properties"]["name"] == {"const": name}
    assert sorted(p.stem for p in SCHEMAS.glob("*.json")) == sorted(
        {*named, "common", *(s.removesuffix(".json") for s in STREAMS)}
    )


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def test_every_ref_names_a_file_beside_it_and_a_definition_in_it() -> None:
    for path in SCHEMAS.glob("*.json"):
        for ref in refs(load(path.name)):
            target, _, pointer = ref.partition("#")
            document = load(target) if target else load(path.name)
            assert (SCHEMAS / (target or path.name)).is_file(), f"{path.name}: {ref}"
            node: Any = document
            for part in [p for p in pointer.split("/") if p]:
                assert part in node, f"{path.name}: {ref}"
                node = node[part]


def test_a_stream_schema_holds_each_message_to_its_own_file() -> None:
    """What a tool in another language does with the files alone: load them all, validate a
    line against its stream's schema (`events.json`), which dispatches on `name`."""
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry().with_resources(
        (p.name, Resource.from_contents(load(p.name))) for p in SCHEMAS.glob("*.json")
    )
    events = jsonschema.Draft202012Validator(load("events.json"), registry=registry)
    assert events.is_valid({"name": "step_started", "index": 0, "op": "call"})
    assert events.is_valid(finished())
    assert not events.is_valid(finished(outcome="okay"))
    assert not events.is_valid({"name": "step_started", "index": 0, "op": "restart"})
    assert not events.is_valid({"name": "server_ready", "protocol": 2})
    control = jsonschema.Draft202012Validator(load("control_events.json"), registry=registry)
    assert control.is_valid({"name": "fork_refused", "id": 3, "reason": "2 threads"})
    assert not control.is_valid({"name": "fork_refused", "id": 3})


def test_the_schemas_know_the_scenario_model_s_features() -> None:
    engine = load("common.json")["$defs"]["engine"]
    assert sorted(engine["properties"]["features"]["propertyNames"]["enum"]) == sorted(FEATURES)


def test_validators_are_built_once() -> None:
    check_event({"name": "step_started", "index": 0, "op": "compile"})
    check_event({"name": "step_started", "index": 1, "op": "call"})
    info = messages._fast_validator.cache_info()
    assert info.hits >= 1 and info.currsize >= 1


# -- what the harness really sends -------------------------------------------------------------
def segment_commands(case: Case, runtime: str) -> list[dict[str, Any]]:
    """run_segment per segment, as the coordinator builds it (execution/run.py)."""
    known = case.known_for(runtime)
    out = []
    for index, segment in enumerate(case.segments):
        steps = []
        for step in segment:
            payload = step.to_json()
            if step.index in known:
                entry = known[step.index]
                payload["expect"], payload["known"] = entry.expect.to_json(), entry.reason
                if entry.results is not None:
                    payload["args"] = {**payload["args"], "results": list(entry.results)}
            steps.append(payload)
        fixtures = {name: f"/fixtures/{name}.wasm" for name in sorted(case.fixtures)}
        segment_payload = {
            "index": index,
            "workdir": "/work",
            "fixtures": fixtures,
            "steps": steps,
            "protocol": PROTOCOL_VERSION,
        }
        out.append({"name": "run_segment", "segment": segment_payload})
    return out


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_bundled_scenario_makes_valid_commands(path: Path) -> None:
    scenario = load_scenario(path)
    runtimes = {None, *(g for k in scenario.known for g in k.runtime + k.producer + k.consumer)}
    for case in cases(scenario):
        for runtime in runtimes:
            for command in segment_commands(case, runtime or "wasmtime-50.0.1"):
                check_command(command)
    check_command({"name": "shutdown"})


# Scenarios that run to the end here, covering every op, restarts, traps, WASI exits (0 is ok
# with an error_kind), fuel, caches, observations that stop a run, and unsupported steps.
REAL = (
    "compile_call_close",
    "serialize_restart_imports",
    "traps",
    "wasi_exit_codes",
    "fuel_exhaustion",
    "cache_dir_restart",
    "use_after_close",
    "deserialize_truncated",
    "feature_defaults",
)


@pytest.mark.integration
@pytest.mark.parametrize("name", REAL)
def test_a_real_worker_sends_only_valid_events(name: str, tmp_path: Path, pool: WorkerPool) -> None:
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    builder = FixtureBuilder(ROOT / "wasm_fixtures")
    seen: set[str] = set()
    for number, case in enumerate(cases(scenario)[:2]):
        workdir = tmp_path / str(number)
        workdir.mkdir()
        for command in segment_commands(case, "wasmtime-50.0.1"):
            segment = command["segment"]
            segment.update(
                workdir=str(workdir),
                fixtures={f: str(builder.build(f)) for f in segment["fixtures"]},
            )
            check_command(command)
            lines = (json.dumps(command) + "\n" + '{"name": "shutdown"}\n').encode()
            proc = subprocess.run(
                WORKER,
                input=lines,
                capture_output=True,
                cwd=workdir,
                env=pool.segment_env(workdir),
                timeout=120,
                check=False,
            )
            events = [json.loads(line) for line in proc.stdout.splitlines()]
            assert proc.returncode == 0, proc.stderr.decode()[-2000:]
            assert events[-1]["name"] == "segment_finished", events[-1]
            for event in events:
                check_event(event)
                seen.add(event["name"])
                if event["name"] == "step_finished":
                    seen.add("outcome " + event["result"]["outcome"])
            if events[-1].get("stopped"):
                break
    assert {"worker_ready", "segment_started", "step_started", "step_finished"} <= seen


@pytest.mark.integration
def test_a_real_fork_server_sends_only_valid_control_messages(
    tmp_path: Path, pool: WorkerPool
) -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    command = [*WORKER[:3], "--fork-server", "--control-fd", str(theirs.fileno())]
    server = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        cwd=tmp_path,
        env=pool.segment_env(tmp_path),
        pass_fds=(theirs.fileno(),),
    )
    theirs.close()
    ours.settimeout(120)
    received: list[dict[str, Any]] = []

    def receive() -> dict[str, Any]:
        message = json.loads(ours.recv(1 << 20))
        check_event(message, channel="control")
        received.append(message)
        return message

    try:
        assert receive()["name"] == "server_ready"
        child, protocol = socket.socketpair()
        with open(tmp_path / "child.stderr", "wb") as stderr:
            request = {
                "name": "fork_segment",
                "id": 1,
                "cwd": str(tmp_path),
                "env": pool.segment_env(tmp_path),
                "memory_mb": 0,
            }
            check_command(request, channel="control")
            socket.send_fds(
                ours, [json.dumps(request).encode()], [protocol.fileno(), stderr.fileno()]
            )
        protocol.close()
        assert receive()["name"] == "segment_forked"
        child.sendall(b'{"name": "shutdown"}\n')
        events = child.makefile("rb").read().splitlines()
        assert [json.loads(e)["name"] for e in events] == ["worker_ready"]
        check_event(json.loads(events[0]))
        child.close()
        assert receive()["name"] == "segment_exited"
        assert received[-1]["returncode"] == 0
        ours.send(json.dumps({"name": "shutdown"}).encode())
        assert server.wait(30) == 0
    finally:
        ours.close()
        if server.poll() is None:
            server.kill()
            server.wait()


# -- what they refuse, and how they say it -----------------------------------------------------
STEP = {"index": 2, "op": "call", "line": 7}
RESULT = {
    **STEP,
    "outcome": "ok",
    "error_kind": None,
    "error_type": None,
    "message": None,
    "trap_code": None,
    "exit_code": None,
    "signal": None,
    "values": [{"type": "i32", "value": 3}],
    "detail": {},
    "duration_s": 0.001,
    "expect": {"kind": "ok"},
    "met": True,
    "why": None,
}


def finished(**changes: Any) -> dict[str, Any]:
    result = {k: v for k, v in {**RESULT, **changes}.items() if v is not ...}
    return {"name": "step_finished", "result": result}


def test_a_valid_step_result_passes() -> None:
    check_event(finished())
    check_event(
        finished(
            values=None,
            outcome="error",
            error_kind="trap",
            error_type="Trap",
            message="wasm trap: unreachable",
            trap_code="unreachable",
            trap_code_api="unreachable",
            met=False,
            why="expected ok, got trap",
        )
    )
    check_event(
        finished(
            values=None,
            outcome="ok",
            error_kind="exit",
            exit_code=0,
            error_type="ExitTrap",
            message="exited with i32 exit status 0",
        )
    )


EVENTS_REFUSED = [
    (
        finished(outcome="okay"),
        "step_finished: result.outcome: 'okay' is not one of "
        "['ok', 'error', 'unsupported', 'not_run']",
    ),
    (finished(outcome="crash"), "step_finished: result.outcome: 'crash' is not one of"),
    (finished(met=...), "step_finished: result: 'met' is a required property"),
    (
        finished(stderr_tail="boom"),
        "step_finished: result: Additional properties are not allowed ('stderr_tail' was",
    ),
    (
        finished(values=[{"type": "i32", "value": 1.5}]),
        "step_finished: result.values[0].value: 1.5 is not of type 'integer'",
    ),
    (
        finished(values=[{"type": "f64", "value": "NaN"}]),
        "step_finished: result.values[0].value: 'NaN' is not one of ['nan', 'inf', '-inf']",
    ),
    (
        finished(values=[{"type": "i32", "value": 2**32}]),
        "step_finished: result.values[0].value: 4294967296 is greater than the maximum",
    ),
    (
        finished(outcome="error", values=None, error_type="Trap", message="m"),
        "step_finished: result.error_kind: None is not of type 'string'",
    ),
    (
        finished(met=False),
        "step_finished: result.why: None is not of type 'string'",
    ),
    (
        finished(op="compile"),
        "step_finished: result.values: [{'type': 'i32', 'value': 3}] is not of type 'null'",
    ),
    (
        finished(adapted=[]),
        "step_finished: result.adapted: [] should be non-empty",
    ),
    (
        {"name": "step_started", "index": 0, "op": "restart"},
        "step_started: op: 'restart' is not one of ['compile', 'serialize', 'deserialize', "
        "'instantiate', 'call', 'close']",
    ),
    ({"name": "step_started", "index": "0", "op": "call"}, "step_started: index: '0' is not of"),
    (
        {"name": "worker_ready", "protocol": PROTOCOL_VERSION, "pid": 4},
        "worker_ready: 'runtime' is a required",
    ),
    (
        {"name": "segment_finished", "index": 0, "completed": "yes"},
        "segment_finished: completed: 'yes' is not of type 'boolean'",
    ),
    ({"name": "worker_failed"}, "worker_failed: 'reason' is a required property"),
    ({"name": "frobnicated"}, "frobnicated: not an event of the segment stream (its events: "),
    ({"name": "server_ready", "protocol": 2}, "server_ready: not an event of the segment stream"),
    ({"name": "run_segment"}, "run_segment: not an event of the segment stream"),
    ({"index": 0}, "a message must be an object with a name, got {'index': 0}"),
]


def test_a_valid_message_is_told_by_the_fast_validator_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """jsonschema (1.3 ms a step result) only words what jsonschema-rs refuses."""

    def unused(name: str) -> None:
        raise AssertionError(f"jsonschema asked about a valid {name}")

    monkeypatch.setattr(messages, "_validator", unused)
    check_event(finished())
    check_event({"name": "step_started", "index": 0, "op": "compile"})


@pytest.mark.parametrize(("message", "expected"), EVENTS_REFUSED)
def test_both_validators_refuse_a_broken_event(message: dict[str, Any], expected: str) -> None:
    name = message.get("name")
    if name in messages.message_names("segment", "event"):
        assert not messages._fast_validator(name).is_valid(message)
        assert not messages._validator(name).is_valid(message)


@pytest.mark.parametrize(("message", "expected"), EVENTS_REFUSED)
def test_a_broken_event_is_refused_naming_the_field(message: dict[str, Any], expected: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        check_event(message)
    assert str(refused.value).startswith(expected)
    assert "\n" not in str(refused.value)


def run_segment(*steps: dict[str, Any], protocol: int = PROTOCOL_VERSION) -> dict[str, Any]:
    segment = {
        "index": 0,
        "workdir": "/w",
        "fixtures": {"add": "/f/add.wasm"},
        "steps": list(steps),
    }
    return {"name": "run_segment", "segment": {**segment, "protocol": protocol}}


COMPILE = {"index": 0, "op": "compile", "expect": {"kind": "ok"}, "line": 3}
COMMANDS_REFUSED = [
    (
        run_segment({**COMPILE, "args": {"as": "m", "engine": {}}}),
        "run_segment: segment.steps[0].args: 'fixture' is a required property",
    ),
    (
        run_segment({**COMPILE, "args": {"fixture": "add", "as": "m", "engine": {"jit": True}}}),
        "run_segment: segment.steps[0].args.engine: Additional properties are not allowed",
    ),
    (
        run_segment(
            {
                **COMPILE,
                "op": "call",
                "args": {
                    "instance": "i",
                    "store": None,
                    "export": "f",
                    "results": None,
                    "args": [{"type": "i32", "value": 0.5}],
                },
            }
        ),
        "run_segment: segment.steps[0].args.args[0].value: 0.5 is not of type 'integer'",
    ),
    (
        run_segment(
            {
                **COMPILE,
                "args": {"fixture": "add", "as": "m", "engine": {}},
                "expect": {"kind": "exit"},
            }
        ),
        "run_segment: segment.steps[0].expect: 'exit_code' is a required property",
    ),
    (run_segment(protocol=1), f"run_segment: segment.protocol: {PROTOCOL_VERSION} was expected"),
    ({"name": "shutdown", "now": True}, "shutdown: Additional properties are not allowed"),
    ({"name": "step_started"}, "step_started: not a command of the segment stream"),
    ({"name": "fork_segment"}, "fork_segment: not a command of the segment stream"),
]


@pytest.mark.parametrize(("message", "expected"), COMMANDS_REFUSED)
def test_a_broken_command_is_refused_naming_the_field(
    message: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ProtocolError) as refused:
        check_command(message)
    assert str(refused.value).startswith(expected)
    assert "\n" not in str(refused.value)


def test_a_worker_of_another_protocol_is_not_a_protocol_error() -> None:
    """Only `protocol` of a handshake outlives a version: the coordinator can then say which
    one the worker speaks instead of calling its message broken."""
    check_event(
        {"name": "worker_ready", "protocol": PROTOCOL_VERSION + 1, "capabilities": ["anything"]}
    )
    with pytest.raises(ProtocolError, match="worker_ready: protocol: 0 is less than"):
        check_event({"name": "worker_ready", "protocol": 0})


def test_the_fork_server_s_messages_belong_to_its_control_channel() -> None:
    ready = {
        "name": "server_ready",
        "protocol": PROTOCOL_VERSION,
        "runtime": {"family": "wasmtime", "version": "50.0.1", "variant": "", "adapter": "x"},
        "python": "3.11.7",
        "pid": 9,
        "unsafe": None,
    }
    check_event(ready, channel="control")
    check_event({"name": "segment_exited", "id": 1, "pid": 9, "returncode": -11}, "control")
    check_command({"name": "shutdown"}, channel="control")
    with pytest.raises(ProtocolError, match="step_started: not an event of the control stream"):
        check_event({"name": "step_started", "index": 0, "op": "call"}, channel="control")
    with pytest.raises(ProtocolError, match="server_ready: 'unsafe' is a required property"):
        check_event({k: v for k, v in ready.items() if k != "unsafe"}, channel="control")
