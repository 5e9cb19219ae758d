"""A suite: the scenario files under some paths, loaded and checked, with their fixtures."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import FixtureError, HarnessError, ScenarioError
from harness.scenario.fixtures import FIXTURE_DIR_NAME, FixtureBuilder, find_fixture_dir
from harness.scenario.loader import discover, load_scenario
from harness.scenario.model import Case, Scenario, cases

DEFAULT_SCENARIO_DIR = Path("scenarios")


@dataclass
class Suite:
    scenarios: list[Scenario] = field(default_factory=list)
    errors: list[HarnessError] = field(default_factory=list)
    builders: dict[str, FixtureBuilder] = field(default_factory=dict)  # by scenario path

    def cases(self) -> list[Case]:
        return [c for s in self.scenarios for c in cases(s)]


def load_suite(paths: list[Path], fixture_dir: Path | None = None, build: bool = False) -> Suite:
    """Load every scenario; collect every error instead of stopping at the first."""
    suite = Suite()
    targets = paths or [DEFAULT_SCENARIO_DIR]
    for target in targets:
        if not target.exists():
            suite.errors.append(HarnessError(f"{target}: no such file or directory"))
    files = discover(t for t in targets if t.exists())
    if not files and not suite.errors:
        suite.errors.append(
            HarnessError(f"no scenario files (*.yaml) under {', '.join(map(str, targets))}")
        )
    builders: dict[Path, FixtureBuilder] = {}
    for path in files:
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            suite.errors.append(exc)
            continue
        folder = fixture_dir or find_fixture_dir(path.parent)
        if folder is None and any(case.named_fixtures for case in cases(scenario)):
            suite.errors.append(
                ScenarioError(
                    scenario.path, None, f"no {FIXTURE_DIR_NAME}/ directory found above it"
                )
            )
            continue
        folder = folder or path.parent / FIXTURE_DIR_NAME  # its modules are all given by path
        builder = builders.setdefault(folder.resolve(), FixtureBuilder(folder))
        try:
            _check_fixtures(scenario, builder, build)
        except HarnessError as exc:
            suite.errors.append(exc)
            continue
        suite.scenarios.append(scenario)
        suite.builders[scenario.path] = builder
    return suite


def _check_fixtures(scenario: Scenario, builder: FixtureBuilder, build: bool) -> None:
    """Each module a step names is there (and builds, with `build`): found by name in the
    fixture directory, or by path inside the scenario's project."""
    for case in cases(scenario):
        for segment in case.segments:
            for step in segment:
                for key in ("fixture", "wasm"):
                    name = step.args.get(key)
                    if name is None:
                        continue
                    try:
                        builder.wasm(case, name) if build else builder.locate(case, name)
                    except FixtureError as exc:
                        raise ScenarioError(
                            scenario.path, step.line, f"step {step.index + 1} ({step.op}): {exc}"
                        ) from None
