"""The commands that help write a suite: `init` (wasm-compat in an existing project), `new` (a
scenario skeleton), `schema` (for editors) and `runtimes` (what tox.ini pins, and which of those
are provisioned)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from harness.cli import arguments
from harness.errors import ExitCode
from harness.execution.pool import WorkerPool
from harness.execution.probe import runtime_state
from harness.provision import starter
from harness.provision.toxenvs import load_project
from harness.report import console
from harness.scenario import scaffold


def add_runtimes(sub: arguments.Subparsers) -> None:
    runtimes = sub.add_parser("runtimes", help="list the runtimes pinned in tox.ini")
    arguments.add_tox_ini(runtimes)
    runtimes.set_defaults(handler=cmd_runtimes)


def add_init(sub: arguments.Subparsers) -> None:
    init = sub.add_parser(
        "init", help="write a tox.ini, an example scenario and a CI workflow into a project"
    )
    init.add_argument(
        "--dir", type=Path, default=Path("."), help="the project (default: the current directory)"
    )
    init.set_defaults(handler=cmd_init)


def add_new(sub: arguments.Subparsers) -> None:
    new = sub.add_parser("new", help="write a commented scenario skeleton that validates")
    new.add_argument("name", help="the scenario's name (a-z, 0-9, _): scenarios/NAME.yaml")
    new.add_argument(
        "--from",
        dest="template",
        default="basic",
        metavar="TEMPLATE",
        help=f"one of {', '.join(scaffold.TEMPLATES)} (default basic), a scenario file, or your "
        "module (.wasm or .wat: a scenario that compiles, serializes and deserializes it)",
    )
    new.add_argument("--dir", type=Path, default=Path("scenarios"), help="default: scenarios/")
    new.set_defaults(handler=cmd_new)


def add_schema(sub: arguments.Subparsers) -> None:
    schema = sub.add_parser("schema", help="print the scenario JSON Schema (for editors)")
    schema.set_defaults(handler=cmd_schema)


def cmd_runtimes(options: argparse.Namespace) -> ExitCode:
    project = load_project(options.tox_ini)
    with tempfile.TemporaryDirectory(prefix="wasm-compat-probe-") as tmp, WorkerPool() as pool:
        states = [runtime_state(project, spec, Path(tmp), pool) for spec in project.specs]
    print(console.runtimes_table([s.to_json() for s in states]))
    provisioned = sum(1 for s in states if s.provisioned)
    print(f"\n{len(states)} runtime(s) pinned in {project.ini}; {provisioned} provisioned")
    return ExitCode.OK


def cmd_init(options: argparse.Namespace) -> ExitCode:
    for path in starter.init(options.dir):
        print(f"wrote {path}")
    print(
        "next: with tox and tox-uv installed beside wasm-compat, `tox` provisions the runtimes "
        "pinned in tox.ini and runs scenarios/ on each (`tox -e wasmtime-50.0.1,matrix -- "
        "--runtime wasmtime-50.0.1` for one); commit these files to run the workflow in CI"
    )
    return ExitCode.OK


def cmd_new(options: argparse.Namespace) -> ExitCode:
    path = scaffold.new_scenario(options.name, options.dir, options.template)
    print(f"wrote {path}: fill in its description, then `wasm-compat run {path}`")
    return ExitCode.OK


def cmd_schema(options: argparse.Namespace) -> ExitCode:
    sys.stdout.write(scaffold.print_schema())
    return ExitCode.OK
