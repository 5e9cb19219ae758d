"""The `wasm-compat` command line: the parser, assembled from each group of commands' own
module, and the mapping of what a command ends with to an exit code.

    run.py        validate, run (and --resume)
    authoring.py  runtimes, init, new, schema
    results.py    diff, baseline, report, merge
    search.py     bisect, explore
    verdict.py    how every command that diffs ends: write, judge, print
    arguments.py  the arguments several commands share

A command parses and prints; what it does lives in the stage below (scenario, execution, store,
analysis, report).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable

import harness
from harness.cli import arguments, authoring, results, run, search
from harness.errors import ExitCode, HarnessError

# Each adds one subcommand, whose `handler` runs it; in the order `--help` lists them.
SUBCOMMANDS: tuple[Callable[[arguments.Subparsers], None], ...] = (
    run.add_validate,
    run.add_run,
    authoring.add_runtimes,
    results.add_diff,
    results.add_baseline,
    results.add_report,
    results.add_merge,
    search.add_bisect,
    search.add_explore,
    authoring.add_init,
    authoring.add_new,
    authoring.add_schema,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wasm-compat",
        description="Run WebAssembly lifecycle scenarios against runtime versions.",
    )
    parser.add_argument("--version", action="version", version=f"wasm-compat {harness.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    try:
        code: ExitCode = options.handler(options)
        return int(code)
    except HarnessError as exc:
        print(f"wasm-compat: {exc}", file=sys.stderr)
        return int(ExitCode.USAGE_ERROR)
    except KeyboardInterrupt:
        print("wasm-compat: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except Exception:
        traceback.print_exc()
        print(
            "wasm-compat: internal error (a bug in wasm-compat; please report it)", file=sys.stderr
        )
        return int(ExitCode.INTERNAL_ERROR)
