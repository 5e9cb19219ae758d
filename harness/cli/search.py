"""The commands that search for changes: `bisect` (which release did it) and `explore` (which
lifecycle nobody wrote down tells two runtimes apart)."""

from __future__ import annotations

import argparse
import shlex
import shutil
import tempfile
from pathlib import Path
from typing import Any

from harness.cli import arguments
from harness.errors import ExitCode, HarnessError, RuntimeSelectionError
from harness.execution.pool import WorkerPool
from harness.plan.matrix import FAMILIES
from harness.scenario.fixtures import find_fixture_dir
from harness.scenario.suite import load_suite

BISECT_TIMEOUT_S = 60.0
BISECT_CRITERION = "outcome"


def add_bisect(sub: arguments.Subparsers) -> None:
    one = sub.add_parser(
        "bisect", help="find the first release between two whose outcome differs from the good one"
    )
    one.add_argument("scenario", type=Path, help="the scenario file")
    one.add_argument("--family", required=True, choices=FAMILIES)
    one.add_argument("--good", required=True, metavar="VERSION", help="a release that behaves")
    one.add_argument("--bad", required=True, metavar="VERSION", help="a later one that does not")
    one.add_argument(
        "--variant",
        default="",
        help="wasmer's ENGINE-COMPILER, e.g. universal-cranelift (1.0's jit/native are mapped)",
    )
    one.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="pick the parameter set (repeatable)",
    )
    one.add_argument(
        "--criterion",
        choices=("outcome", "message"),
        default=BISECT_CRITERION,
        help="what must match the good release: the outcome class (default) or also the "
        "normalized message",
    )
    one.add_argument(
        "--side",
        choices=("consumer", "producer"),
        default="consumer",
        help="an upgrade scenario: which side varies (default: consumer)",
    )
    one.add_argument(
        "--fixed",
        metavar="VERSION",
        help="an upgrade scenario: the other side's release (default: --good for the producer, "
        "--bad for the consumer)",
    )
    one.add_argument(
        "--fixtures", type=Path, help="fixture directory (default: the nearest wasm_fixtures/)"
    )
    one.add_argument(
        "--timeout", type=arguments.seconds, default=BISECT_TIMEOUT_S, help="seconds per segment"
    )
    one.add_argument("--out", type=Path, help="work dir (default: a temporary one)")
    one.set_defaults(handler=cmd_bisect)


def add_explore(sub: arguments.Subparsers) -> None:
    two = sub.add_parser(
        "explore", help="generate lifecycles, run them on two runtimes, keep minimal differences"
    )
    two.add_argument(
        "--runtime",
        action="append",
        required=True,
        metavar="NAME",
        help="a runtime pinned in tox.ini; give exactly two",
    )
    two.add_argument(
        "--max-examples",
        type=arguments.examples,
        default=100,
        help="sequences to try (default 100)",
    )
    two.add_argument("--seed", type=arguments.seed, default=0, help="the random seed (default 0)")
    two.add_argument(
        "--out",
        type=Path,
        default=Path("scenarios/found"),
        help="where found scenarios go (default: scenarios/found/)",
    )
    two.add_argument(
        "--store",
        type=Path,
        default=Path("explore-db"),
        help="the project's store of findings, replayed first (default: explore-db/)",
    )
    two.add_argument("--timeout", type=arguments.seconds, default=20.0, help="seconds per segment")
    arguments.add_tox_ini(two)
    two.set_defaults(handler=cmd_explore)


def cmd_bisect(options: argparse.Namespace) -> ExitCode:
    from harness.search import bisect

    suite = load_suite([options.scenario], options.fixtures, build=True)
    if suite.errors:
        raise HarnessError(str(suite.errors[0]))
    case = _pick_case(suite.cases(), options.param)
    request = bisect.Request(
        case,
        suite.builders[case.scenario.path],
        options.family,
        options.good,
        options.bad,
        variant=options.variant,
        criterion=options.criterion,
        side=options.side,
        fixed=options.fixed,
        timeout=options.timeout,
    )
    spec = bisect.spec_for(options.family, options.good, options.variant)
    versions = bisect.release_versions(spec)
    out = options.out or Path(tempfile.mkdtemp(prefix="wasm-compat-bisect-"))
    print(f"bisect {case.id} on {options.family} {options.good} (good) .. {options.bad} (bad)")
    with WorkerPool() as pool:
        found = bisect.bisect(request, out, lambda line: print(line, flush=True), versions, pool)
    print(
        f"\nfirst release that differs: {options.family} {found.first_bad} "
        f"({found.last_good} is the last that behaves like {options.good})"
    )
    print(f"  {found.last_good:>10}  {bisect.describe(found.good)}")
    print(f"  {found.first_bad:>10}  {bisect.describe(found.bad)}")
    for release, why in found.skipped.items():
        print(f"  skipped {release}: {why}")
    print("reproduce: " + reproduce_command(options, found.last_good, found.first_bad, found.fixed))
    return ExitCode.OK


def reproduce_command(
    options: argparse.Namespace, last_good: str, first_bad: str, fixed: str | None
) -> str:
    """The bisect command that repeats the search over just the boundary it found. It carries
    every option that changes what is run or compared; an upgrade scenario's other side is
    pinned to the release it stayed at (`fixed`), since its default follows --good and --bad."""
    command = ["wasm-compat", "bisect", str(options.scenario), "--family", options.family]
    command += ["--good", last_good, "--bad", first_bad]
    if options.variant:
        command += ["--variant", options.variant]
    command += [f"--param={p}" for p in options.param]
    if options.criterion != BISECT_CRITERION:
        command += ["--criterion", options.criterion]
    if fixed is not None:
        command += ["--side", options.side, "--fixed", fixed]
    if options.fixtures is not None:
        command += ["--fixtures", str(options.fixtures)]
    if options.timeout != BISECT_TIMEOUT_S:
        command += ["--timeout", f"{options.timeout:g}"]
    return shlex.join(command)


def _pick_case(cases: list[Any], params: list[str]) -> Any:
    wanted = dict(p.split("=", 1) for p in params if "=" in p)
    if len(wanted) != len(params):
        raise HarnessError("--param takes NAME=VALUE")
    chosen = [c for c in cases if all(str(c.params.get(k)) == v for k, v in wanted.items())]
    if len(chosen) != 1:
        ids = ", ".join(c.params_id or "(none)" for c in cases)
        raise HarnessError(f"pick one parameter set with --param NAME=VALUE (sets: {ids})")
    return chosen[0]


def cmd_explore(options: argparse.Namespace) -> ExitCode:
    with WorkerPool() as pool:  # the two runtimes' workers end with the command
        return _explore(options, pool)


def _explore(options: argparse.Namespace, pool: WorkerPool) -> ExitCode:
    from harness.execution.probe import pinned_runtime
    from harness.provision.toxenvs import load_project
    from harness.search import explore

    if len(options.runtime) != 2:
        raise RuntimeSelectionError("explore compares two runtimes: give --runtime twice")
    project = load_project(options.tox_ini)
    work = Path(tempfile.mkdtemp(prefix="wasm-compat-explore-"))
    runtimes = []
    for pattern in options.runtime:
        runtime = pinned_runtime(project, pattern, work / ".probe", pool)
        if runtime.unavailable:
            raise RuntimeSelectionError(f"{runtime.name}: {runtime.problem}")
        runtimes.append(runtime)
    pair = (runtimes[0], runtimes[1])
    library = find_fixture_dir(options.out if options.out.exists() else Path.cwd())
    if library is None:
        raise HarnessError("no wasm_fixtures/ directory here or above: run from the project")
    explorer = explore.Explorer(pair, library, work, print, timeout=options.timeout, pool=pool)
    print(f"explore {pair[0].name} vs {pair[1].name}: {options.max_examples} sequences, seed "
          f"{options.seed}")  # fmt: skip
    found = explore.explore(explorer, options.max_examples, options.seed, options.store)
    shutil.rmtree(work, ignore_errors=True)
    if found is None:
        print(f"no crash and no difference in {explorer.count} sequence(s)")
        return ExitCode.OK
    names = (pair[0].name, pair[1].name)
    pins = ["--seed", str(options.seed), "--max-examples", str(options.max_examples)]
    command = shlex.join(
        ["wasm-compat", "explore", "--runtime", names[0], "--runtime", names[1], *pins]
    )
    path = explore.write_finding(found, names, options.out, library, command)
    print(
        f"\n{found.kind}: {found.summary(names)}\nwrote {path} ({len(found.sequence.steps)} steps)"
    )
    return ExitCode.FAILURES
