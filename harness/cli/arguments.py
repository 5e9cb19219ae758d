"""Arguments several commands share, each added by one function so that they read alike."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TypeAlias

from harness.analysis import baseline

# What `add_subparsers` returns: each command adds its own parser to it.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_suite(parser: argparse.ArgumentParser) -> None:
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


def add_out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=Path("reports"), help="output directory (default: reports/)"
    )


def add_tox_ini(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tox-ini", type=Path, help="the tox.ini pinning the runtimes (default: the nearest one)"
    )


def add_baseline(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--baseline",
        type=Path,
        default=baseline.DEFAULT_PATH,
        help=f"accepted breaks (default: {baseline.DEFAULT_PATH})",
    )


def add_required(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--require-runtimes",
        action="append",
        default=[],
        metavar="PATTERN",
        help="runtimes that must run, or the gate fails with their reason (repeatable; a name, "
        "glob, version prefix or family; `all`, `none`; default: tox.ini's "
        "[wasm-compat] require_runtimes, else all)",
    )
