"""pytest plugin: `pytest scenarios/` runs each scenario case as a test on this env's runtime.

Registered through the `pytest11` entry point. A YAML file under a `scenarios/` directory is
collected as scenario cases; each case is an item run through the same isolated workers as
`wasm-compat run`. A runtime that cannot express a step skips the item; a crash is reported as
`CRASH` (its own test status), not folded into a plain failure. `--wasm-runtime NAME` runs on a
runtime pinned in tox.ini instead of the current interpreter's.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.errors import HarnessError
from harness.model.outcome import describe
from harness.model.runtime import Runtime
from harness.scenario.loader import SCENARIO_SUFFIXES, load_scenario
from harness.scenario.model import Case, cases

if TYPE_CHECKING:
    from harness.execution.pool import WorkerPool

_RUNTIME = pytest.StashKey[Runtime]()
_POOL = pytest.StashKey["WorkerPool"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wasm-compat", "wasm-compat scenarios")
    group.addoption(
        "--wasm-runtime",
        metavar="NAME",
        help="run scenarios on this runtime pinned in tox.ini (default: this interpreter's)",
    )
    group.addoption("--wasm-timeout", type=float, default=60.0, help="seconds per segment")
    group.addoption("--wasm-memory-mb", type=int, default=2048, help="memory cap per segment")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix in SCENARIO_SUFFIXES and "scenarios" in file_path.parent.parts:
        head = file_path.read_text(encoding="utf-8", errors="replace")
        if "\nsteps:" in head or head.startswith("steps:"):
            return ScenarioFile.from_parent(parent, path=file_path)
    return None


def _pool(config: pytest.Config) -> WorkerPool:
    """The session's worker processes (each xdist worker's own), closed when the session ends."""
    if _POOL not in config.stash:
        from harness.execution.pool import WorkerPool

        config.stash[_POOL] = pool = WorkerPool()
        config.add_cleanup(pool.close)
    return config.stash[_POOL]


def _runtime(config: pytest.Config) -> Runtime:
    """The runtime every item runs on, probed once per process (each xdist worker too)."""
    if _RUNTIME not in config.stash:
        from harness.execution.probe import probe

        scratch = Path(tempfile.mkdtemp(prefix="wasm-compat-pytest-probe-"))
        name = config.getoption("--wasm-runtime")
        if name:
            from harness.execution.probe import pinned_runtime
            from harness.provision.toxenvs import load_project

            try:
                config.stash[_RUNTIME] = pinned_runtime(
                    load_project(None), name, scratch, _pool(config)
                )
            except HarnessError as exc:
                raise pytest.UsageError(f"--wasm-runtime: {exc}") from None
        else:
            config.stash[_RUNTIME] = probe(sys.executable, scratch, pool=_pool(config))
    return config.stash[_RUNTIME]


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        try:
            scenario = load_scenario(self.path, Path.cwd())
        except HarnessError as exc:
            raise self.CollectError(str(exc)) from None
        for case in cases(scenario):
            yield ScenarioItem.from_parent(
                self, name=f"[{case.params_id}]" if case.params else scenario.name, case=case
            )


class ScenarioCrash(Exception):
    """A run whose process died (or hung) on a step."""


class ScenarioFailure(Exception):
    """A run that missed a stated expectation."""


class ScenarioItem(pytest.Item):
    def __init__(self, *, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        for tag in case.scenario.tags:  # `-m cache` selects by tag
            self.config.addinivalue_line("markers", f"{tag}: scenario tag")
            self.add_marker(tag)
        self.record: dict[str, Any] | None = None

    def runtest(self) -> None:
        from harness.execution.run import run_case
        from harness.scenario.fixtures import FixtureBuilder, find_fixture_dir

        runtime = _runtime(self.config)
        if runtime.unavailable:
            pytest.skip(f"{runtime.name} {runtime.problem}")
        if self.case.scenario.producer:
            pytest.skip("needs a runtime of another family to produce its artifact")
        folder = find_fixture_dir(self.path.parent)
        if folder is None and self.case.named_fixtures:
            raise HarnessError(f"{self.path}: no wasm_fixtures/ directory at or above it")
        folder = folder or self.path.parent / "wasm_fixtures"  # every module is given by path
        out = Path(tempfile.mkdtemp(prefix="wasm-compat-pytest-"))
        consumer = runtime if self.case.scenario.upgrade else None  # the control A→A
        self.record = record = run_case(
            self.case,
            runtime,
            FixtureBuilder(folder),
            out,
            self.config.getoption("--wasm-timeout"),
            self.config.getoption("--wasm-memory-mb"),
            _pool(self.config),
            consumer=consumer,
        )
        self.user_properties.append(("outcome", record["outcome"]))
        if record["status"] in ("unsupported", "not_run"):
            pytest.skip(str(record.get("reason") or record["status"]))
        if record["status"] == "fail":
            failed = next((s for s in record["steps"] if s.get("met") is False), None)
            if failed is not None and failed["outcome"] in ("crash", "timeout"):
                self.user_properties.append(("crash", True))
                raise ScenarioCrash(record)
            raise ScenarioFailure(record)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if not isinstance(excinfo.value, (ScenarioCrash, ScenarioFailure)):
            return str(super().repr_failure(excinfo))
        record = excinfo.value.args[0]
        failed = next((s for s in record["steps"] if s.get("met") is False), record["steps"][-1])
        where = (
            f"step {failed['index'] + 1} ({failed['op']})" if failed["index"] >= 0 else "teardown"
        )
        on = record.get("runtime") or record.get("to")
        lines = [
            f"{self.path.name}:{failed.get('line') or '?'}: {where} on {on}",
            f"  expected: {_expected(failed['expect'])}",
            f"  actual:   {describe(failed)}",
        ]
        if failed.get("why") and failed["outcome"] == "ok":  # a wrong value or cache state
            lines.append(f"  why:      {failed['why']}")
        if failed.get("message"):
            lines.append(f"  message:  {failed['message'].strip()}")
        if failed.get("stderr_tail"):
            lines += [
                "  stderr (last lines):",
                *("    " + ln for ln in failed["stderr_tail"].splitlines()),
            ]
        if record.get("workdir"):
            lines.append(f"  work dir: {record['workdir']}")
        return "\n".join(lines)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.case.id


def _expected(expect: dict[str, Any]) -> str:
    kind = expect.get("kind", "ok")
    if kind == "exit":
        return f"exit {expect.get('exit_code')}"
    return f"{kind} /{expect['pattern']}/" if expect.get("pattern") else str(kind)


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    if report.when == "call" and report.failed and ("crash", True) in report.user_properties:
        return "crashed", "C", ("CRASH", {"red": True})
    return None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Crashes have their own status, so pytest's FAILURES section leaves them out: show them."""
    crashed = terminalreporter.stats.get("crashed", [])
    if crashed:
        terminalreporter.write_sep("=", "CRASHES")
        for report in crashed:
            terminalreporter.write_sep("_", report.head_line or report.nodeid)
            terminalreporter.write_line(str(report.longrepr))
