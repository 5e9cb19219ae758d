"""The worker under test, the fixtures it runs, and what its runtime may legitimately lack.

    WASM_COMPAT_WORKER_CMD='/path/to/worker --flag' python -m pytest tests/conformance

runs the suite against any worker (a JSON list is accepted too, for arguments with spaces).
Without it the suite runs each worker this project ships: the Python worker on this interpreter,
started as the coordinator starts it, and the Go worker built against wazero 1.12.0 (a build
failure fails the suite; no Go toolchain skips it, saying so).
`WASM_COMPAT_WORKER_LACKS=serialize,deserialize` names the operations the worker's
runtime cannot express (it must then report them `unsupported`); by default they come from
the runtime family the worker names in `worker_ready` (see LACKS).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from wire import Message, Worker

from harness.execution.pool import WorkerPool
from harness.provision import go_worker
from harness.scenario.fixtures import FixtureBuilder

ROOT = Path(__file__).resolve().parents[2]
COMMAND_ENV = "WASM_COMPAT_WORKER_CMD"
LACKS_ENV = "WASM_COMPAT_WORKER_LACKS"
READY_S = 60.0  # a worker's start, generous for a loaded CI machine
STEP_S = 30.0

# What each runtime family cannot express, so the suite expects `unsupported` there:
# serialize / deserialize / deserialize_file (from a file, not bytes) / fuel / cache (a
# compilation cache directory) / llvm (the llvm compiler) / store_per_call (a call that passes
# a store: wasmtime before 0.28, whose conformance this suite does not run, lacks it too).
LACKS: dict[str, frozenset[str]] = {
    "wasmtime": frozenset({"llvm"}),
    "wasmer": frozenset({"deserialize_file", "fuel", "cache", "store_per_call"}),
    "wazero": frozenset(
        {"serialize", "deserialize", "deserialize_file", "fuel", "llvm", "store_per_call"}
    ),
}
FIXTURES = (
    "add",
    "exit_import",
    "imports",
    "loop",
    "memory_unbounded",
    "misbehaving_host",
    "traps",
)
OWN_FIXTURES = ("values", "declared_imports")  # tests/conformance/wat/


def worker_command_from(environ: Mapping[str, str]) -> list[str] | None:
    text = environ.get(COMMAND_ENV, "").strip()
    if not text:
        return None
    if text.startswith("["):
        command = json.loads(text)
        assert isinstance(command, list) and all(isinstance(a, str) for a in command), text
        return command
    return shlex.split(text)


# The workers this project ships, each held to the suite when no command is given: the Python
# worker on this interpreter, and the Go worker built against this wazero release with each engine.
WAZERO_RELEASE = "1.12.0"
OWN_WORKERS = ("python", "wazero-compiler", "wazero-interpreter")


@pytest.fixture(scope="session", params=OWN_WORKERS)
def worker_command(request: pytest.FixtureRequest) -> list[str]:
    """The command line that starts the worker under test (override this fixture to change it)."""
    given = worker_command_from(os.environ)
    if given is not None:
        if request.param != OWN_WORKERS[0]:
            pytest.skip(f"{COMMAND_ENV} names the worker under test")
        return given
    if request.param == "python":
        return [sys.executable, "-m", "harness.worker", "--memory-mb", "2048"]
    try:
        binary = go_worker.build(WAZERO_RELEASE)
    except go_worker.GoMissing as exc:
        pytest.skip(f"the Go worker cannot be built here: {exc}")
    variant = request.param.partition("-")[2]
    return [str(binary), "--memory-mb", "2048", "--variant", variant]


@pytest.fixture(scope="session")
def pool() -> Iterator[WorkerPool]:
    """The coordinator's own worker path and environment, so the worker under test starts as
    a segment's process does (the suite talks to it over the wire, not through the pool)."""
    with WorkerPool() as opened:
        yield opened


def worker_env(workdir: Path, pool: WorkerPool) -> dict[str, str]:
    return pool.segment_env(workdir)


Spawn = Callable[[], Worker]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The run's work dir: every worker a test starts shares it, as segments of a run do."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


@pytest.fixture
def spawn(worker_command: list[str], pool: WorkerPool, workdir: Path) -> Iterator[Spawn]:
    """Start a worker (a fresh process each call); every one is killed when the test ends."""
    started: list[Worker] = []

    def start() -> Worker:
        worker = Worker(worker_command, workdir, worker_env(workdir, pool))
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.close()


@pytest.fixture
def ready(spawn: Spawn) -> tuple[Worker, Message]:
    """A started worker past its handshake, and its worker_ready."""
    worker = spawn()
    return worker, worker.handshake(READY_S)


@pytest.fixture(scope="session")
def worker_runtime(
    worker_command: list[str], pool: WorkerPool, tmp_path_factory: pytest.TempPathFactory
) -> Message:
    """The runtime the worker under test names in its worker_ready."""
    folder = tmp_path_factory.mktemp("probe")
    worker = Worker(worker_command, folder, worker_env(folder, pool))
    try:
        info = worker.handshake(READY_S)
    finally:
        worker.close()
    runtime: Message = info["runtime"]
    return runtime


@pytest.fixture(scope="session")
def lacks(worker_runtime: Message) -> frozenset[str]:
    named = os.environ.get(LACKS_ENV)
    if named is not None:
        return frozenset(n.strip() for n in named.split(",") if n.strip())
    return LACKS.get(worker_runtime["family"], frozenset())


@pytest.fixture(scope="session")
def fixtures() -> dict[str, str]:
    """Fixture name -> path of its .wasm, built with wasm-tools as a run builds them."""
    shared = FixtureBuilder(ROOT / "wasm_fixtures")
    own = FixtureBuilder(Path(__file__).resolve().parent / "wat")
    paths = {name: str(shared.build(name)) for name in FIXTURES}
    paths.update({name: str(own.build(name)) for name in OWN_FIXTURES})
    return paths
