"""Arguments several commands share, each added by one function so that they read alike."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
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


def output_dir(text: str) -> Path:
    """An output directory, made absolute here: the runs' work dirs are under it, and a segment
    runs in another folder (a fork server's, its own work dir), where a relative one would miss
    (`run --out shard` in CI)."""
    return Path(text).absolute()


def add_out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=output_dir, default="reports", help="output directory (default: reports/)"
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


# The numbers a command line gives, each checked where argparse reads it: a bad one is a one-line
# usage error (exit 2) that names the option's rule, never a value passed on to fail later.
MAX_TIMEOUT_S = 86_400.0  # a day per segment; the scenario loader holds `timeout:` to the same
MAX_MEMORY_MB = 1 << 20  # 1 TiB: past it the cap means nothing; 0 would mean no cap at all
MAX_COUNT = 1 << 16  # jobs, reruns, examples: more is a typo, not a plan


def seconds(text: str) -> float:
    """A time limit: a finite number of seconds, more than 0 and at most a day."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, found {text!r}") from None
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(
            f"expected seconds more than 0 and at most {MAX_TIMEOUT_S:g}, found {text!r}"
        )
    return value


def integer(low: int, high: int, what: str) -> Callable[[str], int]:
    """An integer from `low` to `high`, for the `type=` of an option."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip()) if len(text) <= 40 else None
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected {what}, an integer from {low} to {high}, found {text[:40]!r}"
            )
        return value

    parse.__name__ = what  # argparse names the type in some messages
    return parse


memory_mb = integer(1, MAX_MEMORY_MB, "MiB")
jobs = integer(1, MAX_COUNT, "a number of jobs")
reruns = integer(0, MAX_COUNT, "a number of reruns")
examples = integer(1, MAX_COUNT, "a number of examples")
seed = integer(0, 2**64 - 1, "a seed")
