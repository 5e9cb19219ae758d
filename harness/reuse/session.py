"""The run command's side of reuse: which planned runs are kept already, keeping what ran, and
probing runtimes through the cache.

    reuse = Reuse(root, context, suite, timeout, fresh=options.fresh)
    reused, to_run = reuse.partition(planned)
    ... each run that ends: reuse.keep(record)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.execution.coordinator import Planned
from harness.execution.pool import WorkerPool
from harness.execution.probe import probe, runtime_state
from harness.execution.run import run_identity
from harness.model.record import RunKey, run_key
from harness.model.runtime import Runtime
from harness.plan.matrix import RuntimeSpec
from harness.provision import go_worker
from harness.provision.toxenvs import ToxProject
from harness.reuse.identity import (
    file_digest,
    go_worker_identity,
    harness_identity,
    host_identity,
    python_env_identity,
)
from harness.reuse.inputs import RunContext, RunInputs, run_inputs, text_digest
from harness.reuse.policy import as_reused, probe_keepable, why_not_kept
from harness.reuse.store import EntryStore
from harness.scenario.suite import Suite


def run_context(memory_mb: int, isolation: str) -> RunContext:
    return RunContext(harness_identity(), host_identity(), memory_mb, isolation)


class Reuse:
    """Planned runs against the cache: kept ones reused (unless `fresh`), the rest run and kept."""

    def __init__(
        self, root: Path, context: RunContext, suite: Suite, timeout: float, fresh: bool = False
    ) -> None:
        self.root = root
        self.entries = EntryStore(root, "runs")
        self.context, self.suite, self.timeout, self.fresh = context, suite, timeout, fresh
        self._inputs: dict[RunKey, RunInputs] = {}
        self._fixtures: dict[tuple[str, str], dict[str, str]] = {}

    def inputs(self, item: Planned) -> RunInputs | None:
        """The run's inputs; None for a run that cannot run (it is planned as a placeholder)."""
        if item.blocked:
            return None
        case = item.case
        roles = {"runtime": item.runtime, "consumer": item.consumer, "producer": item.producer}
        runtimes = {role: (r.name, r.identity) for role, r in roles.items() if r is not None}
        return run_inputs(
            case.scenario.text,
            case.params_id,
            self._fixture_digests(item),
            runtimes,
            case.scenario.timeout or self.timeout,
            self.context,
        )

    def _fixture_digests(self, item: Planned) -> dict[str, str]:
        case = item.case
        memo = (case.scenario.path, case.params_id)
        if memo not in self._fixtures:
            paths = self.suite.builders[case.scenario.path].for_case(case)
            self._fixtures[memo] = {name: file_digest(Path(p)) for name, p in paths.items()}
        return self._fixtures[memo]

    def partition(self, planned: Sequence[Planned]) -> tuple[list[dict[str, Any]], list[Planned]]:
        """The runs reused from the cache (as records of this run), and those still to run."""
        reused: list[dict[str, Any]] = []
        to_run: list[Planned] = []
        for item in planned:
            inputs = self.inputs(item)
            if inputs is not None:
                self._inputs[item.key] = inputs
            entry = None if inputs is None or self.fresh else self.entries.get(inputs.key)
            if inputs is None or entry is None or why_not_kept(entry["body"]) is not None:
                to_run.append(item)
                continue
            identity = run_identity(item.case, item.runtime, item.consumer, item.producer)
            reused.append(as_reused(entry["body"], identity, inputs.key, entry["stored"]))
        return reused, to_run

    def keep(self, record: dict[str, Any]) -> None:
        """Keep a run that ended (or gained its reruns) if it may be reused; forget one that
        proved flaky."""
        inputs = self._inputs.get(run_key(record))
        if inputs is None:
            return
        body = {k: v for k, v in record.items() if k != "reused"}
        if why_not_kept(body) is None:
            self.entries.put(inputs.key, body, inputs.to_json())
        elif body.get("flaky"):
            self.entries.drop(inputs.key)


# -- probes ----------------------------------------------------------------------------------


class RuntimeProbes:
    """Runtimes probed through the cache: a probe is kept (`probe_keepable`) and reused while
    its env, the harness and the host are unchanged. A reused probe starts no worker."""

    def __init__(self, root: Path, scratch: Path, pool: WorkerPool, fresh: bool = False) -> None:
        self.store = EntryStore(root, "runtimes")
        self.scratch, self.pool, self.fresh = scratch, pool, fresh

    def python(self, python: str) -> Runtime:
        """The runtime installed for an interpreter (`run --python`)."""
        identity = python_env_identity(python)
        return self._through_cache(
            python, identity, lambda: probe(python, self.scratch, pool=self.pool)
        )

    def pinned(self, project: ToxProject, spec: RuntimeSpec) -> Runtime:
        """A runtime pinned in tox.ini, in its env."""
        scratch = self.scratch / spec.name
        return self._through_cache(
            spec.name,
            env_identity(project, spec),
            lambda: runtime_state(project, spec, scratch, self.pool),
        )

    def _through_cache(
        self, name: str, identity: str | None, probe_it: Callable[[], Runtime]
    ) -> Runtime:
        key = None
        if identity is not None:
            key = text_digest("\n".join([name, identity, harness_identity(), host_identity()]))
            entry = None if self.fresh else self.store.get(key)
            if entry is not None:
                try:
                    return Runtime.from_json(entry["body"])
                except (KeyError, TypeError, ValueError):
                    pass  # damaged: probe again
        found = probe_it()
        found.identity = identity
        if key is not None and probe_keepable(found):
            self.store.put(key, found.to_json())
        return found


def env_identity(project: ToxProject, spec: RuntimeSpec) -> str | None:
    """The identity of a pinned runtime's env, from its files; None where there is no env."""
    if spec.is_go:
        env = project.env_dir(spec)
        worker = go_worker.env_state(env).worker if env.is_dir() else None
        return go_worker_identity(worker) if worker is not None else None
    python = project.env_python(spec)
    return python_env_identity(str(python)) if python.exists() else None
