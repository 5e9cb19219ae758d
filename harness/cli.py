"""The `wasm-compat` command line."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Any

import harness
from harness import console
from harness.errors import ExitCode, HarnessError, RuntimeSelectionError
from harness.results import ResultsWriter, compat_document, now, write_compat
from harness.runner import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S,
    Runtime,
    probe,
    run_case,
    select,
)
from harness.suite import load_suite


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wasm-compat",
        description="Run WebAssembly lifecycle scenarios against runtime versions.",
    )
    parser.add_argument("--version", action="version", version=f"wasm-compat {harness.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    validate = sub.add_parser("validate", help="check scenario files and build their fixtures")
    _add_suite_arguments(validate)
    run = sub.add_parser("run", help="run scenarios and write results")
    _add_suite_arguments(run)
    run.add_argument(
        "--out", type=Path, default=Path("reports"), help="output directory (default: reports/)"
    )
    run.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds a segment may run unless its scenario sets a timeout "
        f"(default: {DEFAULT_TIMEOUT_S:g})",
    )
    run.add_argument(
        "--memory-mb",
        type=int,
        default=DEFAULT_MEMORY_MB,
        help=f"memory cap of each segment process in MiB (default: {DEFAULT_MEMORY_MB})",
    )
    run.add_argument(
        "-k",
        dest="pattern",
        metavar="PATTERN",
        help="only scenarios whose id or a tag contains PATTERN",
    )
    run.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="INTERPRETER",
        help="run on the runtime installed for this interpreter (repeatable; default: this one)",
    )
    run.add_argument(
        "--keep-work", action="store_true", help="keep the work dirs of passing runs too"
    )
    return parser


def _add_suite_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="scenario files or directories (default: scenarios/)",
    )
    parser.add_argument(
        "--fixtures", type=Path, help="fixture directory (default: the nearest wasm_fixtures/)"
    )


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    try:
        code: ExitCode = COMMANDS[options.command](options)
        return int(code)
    except HarnessError as exc:
        print(f"wasm-compat: {exc}", file=sys.stderr)
        return int(ExitCode.USAGE_ERROR)
    except KeyboardInterrupt:
        print("wasm-compat: interrupted", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print(
            "wasm-compat: internal error (a bug in wasm-compat; please report it)", file=sys.stderr
        )
        return int(ExitCode.INTERNAL_ERROR)


def cmd_validate(options: argparse.Namespace) -> ExitCode:
    suite = load_suite(options.paths, options.fixtures, build=True)
    for error in suite.errors:
        print(error, file=sys.stderr)
    total = len(suite.cases())
    print(
        f"{len(suite.scenarios)} scenario(s), {total} run(s) per runtime; "
        f"{len(suite.errors)} error(s)"
    )
    return ExitCode.USAGE_ERROR if suite.errors else ExitCode.OK


def cmd_run(options: argparse.Namespace) -> ExitCode:
    suite = load_suite(options.paths, options.fixtures, build=True)
    if suite.errors:
        for error in suite.errors:
            print(error, file=sys.stderr)
        return ExitCode.USAGE_ERROR
    cases = select(suite.cases(), options.pattern)
    if not cases:
        raise HarnessError(f"no scenario matches -k {options.pattern!r}")
    out: Path = options.out
    started = now()
    writer = ResultsWriter(out)
    runtimes = _runtimes(options.python or [sys.executable], out)
    usable = [r for r in runtimes if not r.unavailable]
    for runtime in runtimes:
        writer.runtime(runtime.to_json())
        if runtime.unavailable:
            print(
                f"wasm-compat: {runtime.name}: not usable: {runtime.unavailable}", file=sys.stderr
            )
    if not usable:
        writer.close()
        raise RuntimeSelectionError(
            "no usable runtime (install one, e.g. `pip install wasmtime`, or pass --python)"
        )
    runs: list[dict[str, Any]] = []
    progress = console.Progress(len(cases) * len(usable))
    try:
        for runtime in usable:
            for case in cases:
                builder = suite.builders[case.scenario.path]
                record = run_case(
                    case,
                    runtime,
                    builder,
                    out,
                    options.timeout,
                    options.memory_mb,
                    options.keep_work,
                )
                writer.run(record)
                runs.append(record)
                progress.advance(record)
    finally:
        progress.finish()
        writer.close()
        document = compat_document([r.to_json() for r in runtimes], runs, started)
        path = write_compat(out, document)
    print(console.table(document["runs"]))
    summary = document["summary"]
    print(
        f"\n{summary['passed']} passed, {summary['failed']} failed, {summary['unsupported']} "
        f"unsupported of {summary['runs']} run(s); results in {path}"
    )
    if summary["harness_errors"]:
        print(
            f"wasm-compat: {summary['harness_errors']} harness error(s); see compat.json",
            file=sys.stderr,
        )
    return ExitCode.FAILURES if summary["failed"] else ExitCode.OK


def _runtimes(pythons: list[str], out: Path) -> list[Runtime]:
    found = []
    for python in pythons:
        runtime = probe(python, out / "work" / ".probe")
        found.append(runtime)
    return found


COMMANDS = {"validate": cmd_validate, "run": cmd_run}
