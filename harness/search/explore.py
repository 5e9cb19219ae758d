"""Explore lifecycles nobody wrote down: generate step sequences, run them on two runtimes, and
shrink any crash or any difference in outcome class to a minimal scenario file.

The sequences come from `lifecycles`. Each minimal finding is kept in a JSON store in the project
(one file per runtime pair) and replayed first on the next exploration of that pair.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample

from harness.analysis import diff
from harness.errors import HarnessError
from harness.scenario.scaffold import schema_reference
from harness.search.lifecycles import Sequence, sequences

if TYPE_CHECKING:
    from harness.execution.pool import WorkerPool


class ExploreError(HarnessError):
    """Exploration cannot start (a runtime is not usable, the output dir cannot be written)."""


# -- running sequences on two runtimes -----------------------------------------------------------


@dataclass
class Finding:
    sequence: Sequence
    kind: str  # crash | difference
    a: dict[str, Any]  # the run on the first runtime
    b: dict[str, Any]

    def summary(self, names: tuple[str, str]) -> str:
        return f"{names[0]}: {_side(self.a)}; {names[1]}: {_side(self.b)}"


def _side(run: dict[str, Any]) -> str:
    from harness.report.common import side

    return side(diff.summary_of(diff.signature(run)), 100)


def judge(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """crash: either run crashed; difference: their outcome classes (or the step where they
    stopped) differ; None: alike."""
    if "crash" in (a["outcome"], b["outcome"]):
        return "crash"
    sa, sb = diff.signature(a), diff.signature(b)
    if (sa["outcome"], sa.get("step")) != (sb["outcome"], sb.get("step")):
        return "difference"
    return None


class Explorer:
    """Runs sequences on two runtimes in the usual isolated workers."""

    def __init__(
        self,
        runtimes: tuple[Any, Any],
        library: Path,
        work: Path,
        report: Callable[[str], None],
        timeout: float = 20.0,
        memory_mb: int = 2048,
        pool: WorkerPool | None = None,
    ) -> None:
        from harness.scenario.fixtures import FixtureBuilder

        self.pool = pool  # the command's; without one, each run opens its own
        self.runtimes = runtimes
        self.work = work
        self.report = report
        self.timeout, self.memory_mb = timeout, memory_mb
        self.fixtures = work / "fixtures"
        self.fixtures.mkdir(parents=True, exist_ok=True)
        for wat in library.glob("*.wat"):  # copies: a fixture may not link out of its folder
            target = self.fixtures / wat.name
            if not target.exists():
                shutil.copyfile(wat, target)
        self.builder = FixtureBuilder(self.fixtures)
        self.count = 0

    def run(self, sequence: Sequence) -> tuple[dict[str, Any], dict[str, Any]]:
        from harness.execution.run import run_case
        from harness.scenario.model import cases, parse_scenario

        for name, wat in sequence.modules:
            path = self.fixtures / f"{name}.wat"
            if not path.exists():
                path.write_text(wat)
        scenario = parse_scenario(sequence.document("explored"), {}, "explored.yaml", "explored")
        (case,) = cases(scenario)
        a, b = (
            run_case(case, r, self.builder, self.work, self.timeout, self.memory_mb, self.pool)
            for r in self.runtimes
        )
        self.count += 1
        return a, b


def explore(
    explorer: Explorer,
    max_examples: int,
    seed: int,
    database: Path,
) -> Finding | None:
    """The minimal sequence (hypothesis shrinks it) that crashes a runtime or tells the two
    apart, or None. A KeyboardInterrupt returns the smallest one seen so far."""
    best: list[Finding] = []

    def interesting(sequence: Sequence) -> bool:
        a, b = explorer.run(sequence)
        kind = judge(a, b)
        mark = "!" if kind else " "
        explorer.report(
            f"{mark} #{explorer.count:<4} {len(sequence.steps)} steps  {_side(a)} | {_side(b)}"
        )
        if kind is None:
            return False
        found = Finding(sequence, kind, a, b)
        if not best or len(sequence.steps) <= len(best[-1].sequence.steps):
            best.append(found)
        return True

    store = database / "{}__{}.json".format(*(r.name for r in explorer.runtimes))
    for known in load_store(store):  # findings replay first, so they stay found
        if interesting(known):
            explorer.report("! replayed a stored finding")
            return best[-1]
    options = settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate, Phase.shrink],
    )
    try:
        find(sequences(), interesting, settings=options, random=random.Random(seed))
    except NoSuchExample:
        return None
    except KeyboardInterrupt:
        explorer.report("interrupted: keeping the smallest finding so far")
    if best:
        save_store(store, [*load_store(store), best[-1].sequence])
    return best[-1] if best else None


def load_store(path: Path) -> list[Sequence]:
    """The minimal sequences found before for one runtime pair (the project's example store)."""
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    return [Sequence(tuple(s["steps"]), tuple(map(tuple, s["modules"]))) for s in data["found"]]


def save_store(path: Path, found: list[Sequence]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = [{"steps": list(s.steps), "modules": [list(m) for m in s.modules]} for s in found]
    unique = list({json.dumps(e, sort_keys=True): e for e in entries}.values())
    data = {"format": 1, "found": unique}
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def write_finding(
    finding: Finding, names: tuple[str, str], out: Path, fixture_dir: Path, command: str
) -> Path:
    """The finding as an ordinary scenario file (plus its generated fixtures), named by content."""
    out.mkdir(parents=True, exist_ok=True)
    for name, wat in finding.sequence.modules:
        fixture_dir.mkdir(parents=True, exist_ok=True)
        (fixture_dir / f"{name}.wat").write_text(wat)
    description = (
        f"Found by wasm-compat explore ({finding.kind}): {finding.summary(names)}. Every step "
        "is an observation; the diff across releases judges it."
    )
    document = finding.sequence.document(description)
    body = yaml.safe_dump(document, sort_keys=False, width=96, allow_unicode=True)
    digest = hashlib.sha256(body.encode()).hexdigest()[:8]
    path = out / f"found_{finding.kind}_{digest}.yaml"
    header = [
        f"# yaml-language-server: $schema={schema_reference(out)}",
        f"# Found by `{command}`;",
        "# hypothesis shrank it to this minimal sequence.",
    ]
    path.write_text("\n".join(header) + "\n" + body)
    return path
