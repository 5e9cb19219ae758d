"""Which runs may be kept for reuse, and a kept run as the record of a new run. Pure.

A run is kept only when running it again would tell nothing new: not a run that timed out
where its scenario did not say it would (a loaded machine may finish it next time), was flaky,
had a segment killed from outside (the OOM killer, another process), met a bug of the harness,
or did not run at all. A probe is kept unless it hung or was killed (`probe_keepable`).

A step that the scenario (or a `known` entry) says will hang, and that did, is kept: it is the
scenario's own statement, met, and running it again can only spend its whole time limit to
find the same (`infinite_loop_timeout` alone would cost 38 limits on every run of the matrix).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from harness.model.outcome import NOT_RUN, TIMEOUT
from harness.model.runtime import Runtime

# Fields of a run that say which run it is, not how it went: taken from the run being planned,
# never from the cache (the scenario file may have moved; the labels are today's).
IDENTITY = ("scenario", "path", "tags", "params", "params_id", "case", "runtime", "from", "to")


def why_not_kept(record: Mapping[str, Any]) -> str | None:
    """Why this run must not be reused, or None when it may."""
    if record.get("status") == NOT_RUN or record.get("outcome") == NOT_RUN:
        return "it did not run"
    if record.get("reused"):
        return "it is reused already"
    if record.get("flaky"):
        return "it was flaky"
    if record.get("segment_retried"):
        return "a segment was killed from outside"
    for step in record.get("steps") or []:
        if step.get("outcome") == TIMEOUT and not _hang_as_stated(step):
            return "a step timed out where its scenario did not say it would"
        if step.get("error_kind") == "harness":
            return "the harness failed"
    return None


def as_reused(
    kept: Mapping[str, Any], planned: Mapping[str, Any], key: str, stored: str
) -> dict[str, Any]:
    """The kept run, under the identity of the run planned now, marked as reused: from which
    entry, and when it ran. Its work dir belonged to the run that made it, so it is gone."""
    record = {k: v for k, v in kept.items() if k not in IDENTITY and k != "producer"}
    record.update(planned)
    record["workdir"] = None
    record["reused"] = {"key": key, "ran": stored}
    return record


def _hang_as_stated(step: Mapping[str, Any]) -> bool:
    expect = step.get("expect")
    return step.get("met") is True and isinstance(expect, dict) and expect.get("kind") == TIMEOUT


# What a probe that failed by chance says: it hung or was killed, so it may pass next time.
_BY_CHANCE = re.compile(r"did not finish|time ?out|no result within|killed|SIGKILL|SIGTERM", re.I)


def probe_keepable(found: Runtime) -> bool:
    """A probe is kept when its runtime is usable, or cannot be used for a reason its env and
    this host decide (a CPU feature, a library it cannot load), never one it hung or was killed
    on. `--fresh` probes again, say after a system library was installed."""
    return found.unavailable is None or not _BY_CHANCE.search(found.unavailable)
