"""The measures of section 4 over a set of promises: coverage, padding, pinball loss.

Every promise is a (promised, actual) pair of hours after the moment it was
made. Padding is promised minus actual, in days (negative for a miss);
pinball loss at q is the standard quantile loss of the promise, in days.
The rolling coverage takes 28-day windows of promise times, stepped weekly,
and ignores windows holding fewer than ``min_window`` promises.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import numpy as np

DAY_HOURS = 24.0
WINDOW = timedelta(days=28)
STEP = timedelta(days=7)


@dataclass(frozen=True)
class Scores:
    count: int
    coverage: float
    mean_padding_days: float
    p90_padding_days: float
    pinball_days: float
    rolling_min_coverage: float | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def pinball(actual: np.ndarray, promised: np.ndarray, q: float) -> float:
    """Mean quantile loss at ``q``: under-promising costs q, over-promising 1 - q."""
    diff = actual - promised
    return float(np.mean(np.where(diff >= 0.0, q * diff, (q - 1.0) * diff)))


def rolling_min_coverage(
    made_at: Sequence[datetime], covered: Sequence[bool], min_window: int = 50
) -> float | None:
    """The lowest coverage over 28-day windows of promise times, stepped by a week."""
    if not made_at:
        return None
    times = np.array([t.timestamp() for t in made_at])
    hits = np.asarray(covered, dtype=float)
    order = np.argsort(times)
    times, hits = times[order], hits[order]
    cumulative = np.concatenate(([0.0], np.cumsum(hits)))
    lowest: float | None = None
    start = times[0]
    while start <= times[-1]:
        lo = int(np.searchsorted(times, start, "left"))
        hi = int(np.searchsorted(times, start + WINDOW.total_seconds(), "left"))
        if hi - lo >= min_window:
            value = (cumulative[hi] - cumulative[lo]) / (hi - lo)
            lowest = value if lowest is None else min(lowest, value)
        start += STEP.total_seconds()
    return lowest


def score(pairs: Iterable[tuple[datetime, float, float]], q: float, min_window: int = 50) -> Scores:
    """Scores of (made_at, promised hours, actual hours) triples."""
    rows = list(pairs)
    if not rows:
        return Scores(0, float("nan"), float("nan"), float("nan"), float("nan"), None)
    promised = np.array([r[1] for r in rows]) / DAY_HOURS
    actual = np.array([r[2] for r in rows]) / DAY_HOURS
    covered = actual <= promised
    padding = promised - actual
    return Scores(
        count=len(rows),
        coverage=float(covered.mean()),
        mean_padding_days=float(padding.mean()),
        p90_padding_days=float(np.quantile(padding, 0.9)),
        pinball_days=pinball(actual, promised, q),
        rolling_min_coverage=rolling_min_coverage(
            [r[0] for r in rows], covered.tolist(), min_window
        ),
    )
