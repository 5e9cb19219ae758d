"""The command line: ``python -m harness.provision.interpreters install|find``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from harness.errors import ExitCode, ProvisionError
from harness.paths import CACHE_ENV
from harness.provision.interpreters.install import install
from harness.provision.interpreters.prefix import PREFIX_ENV, default_prefix, read_state


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    env = dict(os.environ)
    prefix = Path(args.prefix).absolute() if args.prefix else default_prefix(env)
    quiet = getattr(args, "quiet", False)

    def log(message: str) -> None:
        if not quiet:
            print(f"[python3.9] {message}", file=sys.stderr, flush=True)

    started = time.monotonic()
    try:
        if args.command == "find":
            installed = read_state(prefix)
            print(f"{installed.python} {installed.origin}")
            return ExitCode.OK
        installed, found = install(
            prefix, env, from_debian=args.from_debian, mirror=args.mirror, log=log
        )
    except (ProvisionError, OSError) as error:  # an OSError: e.g. a prefix we cannot write
        print(f"error: {error}", file=sys.stderr)
        return ExitCode.FAILURES
    log(f"done in {time.monotonic() - started:.1f}s")
    print(f"{installed.python}: CPython {found.version_text} ({installed.origin})")
    return ExitCode.OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m harness.provision.interpreters",
        description="Provide a CPython 3.9 for the wasmer envs at PREFIX/bin/python3.9.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    prefix_help = (
        f"where it goes (default: ${PREFIX_ENV}, else python3.9 in ${CACHE_ENV}, "
        "$XDG_CACHE_HOME/wasm-compat or ~/.cache/wasm-compat)"
    )
    setup = commands.add_parser("install", help="provide one (idempotent)")
    setup.add_argument("--prefix", help=prefix_help)
    setup.add_argument(
        "--from-debian", action="store_true", help="take bullseye's, even if one is installed"
    )
    setup.add_argument("--mirror", help="Debian archive URL (default: from the apt sources)")
    setup.add_argument("--quiet", action="store_true", help="print only the result")
    lookup = commands.add_parser("find", help="print the installed one and its origin")
    lookup.add_argument("--prefix", help=prefix_help)
    return parser
