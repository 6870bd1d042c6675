"""The evaluation week by week: where in time, and in which bucket, coverage and padding go.

The overall and per-cell rows say whether a target holds; this series says when
it stopped holding and whether the model or the online correction was at fault.
Each promise is counted in the ISO week it was *made* (its ``made_at``, as the
rolling 4-week coverage counts it), per bucket and over all buckets: how many
promises, the coverage of the model's own q-quantile (``raw``) and of the
corrected promise, and the mean padding of each (promised minus actual, days).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from headstart.evaluation.metrics import DAY_HOURS
from headstart.evaluation.replay import BUCKETS, Prediction

ALL_BUCKETS = "overall"


@dataclass(frozen=True)
class WeekCell:
    """One ISO week (``2025-W43``) of one bucket, or of all of them (``overall``)."""

    week: str
    bucket: str
    count: int
    coverage: float
    raw_coverage: float
    mean_padding_days: float
    raw_mean_padding_days: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def week_of(prediction: Prediction) -> str:
    """The ISO week the promise was made in, as ``YYYY-Www``."""
    year, week, _ = prediction.made_at.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_of(predictions: Iterable[Prediction]) -> list[WeekCell]:
    """Per ISO week of the promise, ``overall`` then each bucket that had promises that week."""
    cells: dict[tuple[str, str], list[Prediction]] = defaultdict(list)
    for p in predictions:
        week = week_of(p)
        cells[(week, ALL_BUCKETS)].append(p)
        cells[(week, p.bucket)].append(p)
    order = {name: i for i, name in enumerate((ALL_BUCKETS, *BUCKETS))}
    keys = sorted(cells, key=lambda k: (k[0], order.get(k[1], len(order)), k[1]))
    return [_cell(week, bucket, cells[(week, bucket)]) for week, bucket in keys]


def _cell(week: str, bucket: str, promises: Sequence[Prediction]) -> WeekCell:
    n = len(promises)
    return WeekCell(
        week=week,
        bucket=bucket,
        count=n,
        coverage=sum(p.actual_hours <= p.promised_hours for p in promises) / n,
        raw_coverage=sum(p.actual_hours <= p.raw_hours for p in promises) / n,
        mean_padding_days=sum(p.promised_hours - p.actual_hours for p in promises) / n / DAY_HOURS,
        raw_mean_padding_days=sum(p.raw_hours - p.actual_hours for p in promises) / n / DAY_HOURS,
    )
