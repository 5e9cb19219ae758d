"""The inputs a run's outcome depends on, and the key they give. Pure.

Two runs with equal inputs behave alike, up to flakiness (which `policy` keeps out of the
cache): the same scenario text and parameter set, the same module bytes under the same names,
the same runtime envs in the same roles, the same harness on the same host, with the same
options. Anything else about a run (where its scenario file lies, the output directory, -j,
the baseline) changes none of that and is not part of the key.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass

# Bumped when what a key covers changes, so entries of an older rule are misses, not hits.
KEY_RULE = 1


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text_digest(text: str) -> str:
    return digest(text.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class RunContext:
    """What every run of one invocation shares: the harness, the host and its options."""

    harness: str  # the harness's identity: its version and a digest of its sources
    host: str  # a digest of the host's identity (CPU, flags, machine, kernel, libc)
    memory_mb: int
    isolation: str  # fork or spawn (WASM_COMPAT_ISOLATION)


@dataclass(frozen=True)
class RunInputs:
    """Everything one run's outcome is a function of."""

    scenario: str  # digest of the scenario file's text (steps, params, known entries, timeout)
    params_id: str
    fixtures: tuple[tuple[str, str], ...]  # each module handed to the worker: name, bytes digest
    runtimes: tuple[tuple[str, str, str], ...]  # role, runtime name, env identity
    timeout: float  # the segment limit in effect: the scenario's, else the command line's
    context: RunContext

    @functools.cached_property
    def key(self) -> str:
        """A digest of every input, in a canonical form (every field, in order; no `asdict`,
        which copies deeply and costs more than the digest on thousands of runs)."""
        context = self.context
        body = [
            KEY_RULE,
            self.scenario,
            self.params_id,
            self.fixtures,
            self.runtimes,
            self.timeout,
            [context.harness, context.host, context.memory_mb, context.isolation],
        ]
        return text_digest(json.dumps(body, separators=(",", ":")))

    def to_json(self) -> dict[str, object]:
        """What an entry records of its inputs, so a person can tell why it missed."""
        return {"rule": KEY_RULE, **asdict(self)}


def run_inputs(
    scenario_text: str,
    params_id: str,
    fixture_digests: Mapping[str, str],
    runtimes: Mapping[str, tuple[str, str | None]],
    timeout: float,
    context: RunContext,
) -> RunInputs | None:
    """A run's inputs; None when a runtime's identity is unknown (then it is neither reused
    nor kept: an unknown input must never match another)."""
    roles = []
    for role, (name, identity) in sorted(runtimes.items()):
        if not identity:
            return None
        roles.append((role, name, identity))
    return RunInputs(
        scenario=text_digest(scenario_text),
        params_id=params_id,
        fixtures=tuple(sorted(fixture_digests.items())),
        runtimes=tuple(roles),
        timeout=float(timeout),
        context=context,
    )
