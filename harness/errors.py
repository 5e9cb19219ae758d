"""Errors a user can act on, and the exit codes the CLI returns.

    HarnessError                  a problem in the user's input or environment: one line, exit 2
    ├── ScenarioError             a scenario file is malformed (path:line: expected ..., found ...)
    ├── FixtureError              a fixture is missing or does not build
    ├── RuntimeSelectionError     an unknown runtime or an interpreter that cannot run the worker
    └── ResultsError              a results file that cannot be read or written

Anything else escaping to the CLI is a bug in the harness: traceback and exit code 3.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0  # every run met its expectations (later: no new break against the baseline)
    FAILURES = 1  # some run did not meet its expectations (later: a new break)
    USAGE_ERROR = 2  # bad input: a malformed scenario, a missing fixture, an unknown runtime
    INTERNAL_ERROR = 3  # a bug in the harness itself


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
