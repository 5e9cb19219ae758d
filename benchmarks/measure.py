"""How the bench times a segment and shows a figure: timed segments, quantiles, target marks."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness.execution.pool import WorkerPool  # noqa: E402
from harness.execution.segment import SegmentRun, run_segment  # noqa: E402
from harness.model.runtime import WorkerCommand  # noqa: E402
from harness.model.step import StepJson  # noqa: E402

TIMEOUT_S = 60
MEMORY_MB = 2048


def target(ok: bool, text: str) -> str:
    return f"[{'met' if ok else 'NOT met'}: {text}]"


def segment_times(
    worker: WorkerCommand,
    mode: str,
    steps: list[StepJson],
    fixtures: dict[str, str],
    work: Path,
    count: int,
) -> list[float]:
    """Wall times of `count` segments of these steps, each checked, after one untimed segment
    (which starts a fork server where `mode` is `fork` and the worker can fork)."""
    work.mkdir(parents=True, exist_ok=True)
    with WorkerPool(isolation=mode) as pool:
        _checked(run_segment(worker, steps, 0, work, fixtures, TIMEOUT_S, MEMORY_MB, pool=pool))
        times = []
        for _ in range(count):
            started = time.perf_counter()
            seg = run_segment(worker, steps, 0, work, fixtures, TIMEOUT_S, MEMORY_MB, pool=pool)
            times.append(time.perf_counter() - started)
            _checked(seg)
            if worker.forkable and seg.isolation != mode:
                raise SystemExit(f"{worker.argv[0]}: a segment ran as {seg.isolation}, not {mode}")
    return times


def _checked(seg: SegmentRun) -> SegmentRun:
    """A segment whose every step ran and met its expectation, or the bench stops, saying why."""
    failed = [r for r in seg.results if not r.get("met")]
    if not seg.completed or failed or seg.harness_error or seg.unavailable:
        why = seg.unavailable or seg.harness_error or (failed[0] if failed else "incomplete")
        raise SystemExit(f"a timed segment failed: {why}")
    return seg


def median_p90(times: list[float]) -> tuple[float, float]:
    """The median and the 90th percentile, in milliseconds."""
    p90 = statistics.quantiles(times, n=10, method="inclusive")[-1]
    return statistics.median(times) * 1000, p90 * 1000
