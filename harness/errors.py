"""Errors a user can act on, and the exit codes the commands return.

    HarnessError                  a problem in the user's input or environment: one line, exit 2
    ├── ScenarioError             a scenario file is malformed (path:line: expected ..., found ...)
    ├── FixtureError              a fixture is missing or does not build
    ├── RuntimeSelectionError     an unknown runtime or an interpreter that cannot run the worker
    ├── ResultsError              a results file that cannot be read or written
    ├── ProvisionError            no CPython 3.9 for wasmer could be provided: exit 1 from
    │                             `python -m harness.provision.interpreters`, its only failure
    ├── BaselineError             (analysis.baseline) a baseline file that cannot be used
    ├── BisectError               (search.bisect) a bisection that cannot start or go on
    └── ExploreError              (search.explore) an exploration that cannot start

Anything else escaping to the CLI is a bug in the harness: traceback and exit code 3. The
worker's own errors (ProtocolError, CorruptError, ScenarioStateError) are not HarnessErrors:
they describe what a worker met and end as a step's outcome or a `worker_failed` event.
Stdlib only and Python 3.9: `python -m harness.provision.interpreters` imports it on a machine
where nothing else is installed yet.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """What `wasm-compat` and `python -m harness.provision.interpreters` exit with."""

    OK = 0  # the gate passed (interpreters: a CPython 3.9 is in place and passed its self-check)
    # the gate failed: a new break, a stale baseline entry, a missed expectation, a required
    # runtime that did not run (interpreters: none could be provided, or none is installed)
    FAILURES = 1
    USAGE_ERROR = 2  # bad input: a malformed scenario, a missing fixture, an unknown runtime
    INTERNAL_ERROR = 3  # a bug in the harness itself
    INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as a shell reports a command it interrupted


class HarnessError(Exception):
    """An error the user can fix; its message is one line."""


def one_line(text: str) -> str:
    """Text with every non-printable character (a newline in a YAML key...) escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class ScenarioError(HarnessError):
    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message = one_line(message)  # whatever a scenario's keys held
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class FixtureError(HarnessError):
    pass


class RuntimeSelectionError(HarnessError):
    pass


class ResultsError(HarnessError):
    pass


class ProvisionError(HarnessError):
    """Provisioning failed; the message is one line saying what failed and what to do."""
