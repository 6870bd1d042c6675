"""A sorted, weighted sample of durations, conditioned on time already spent.

Prior draws and observed shipments enter with different weights (shrinkage
toward the prior, section 4), so quantiles are taken over cumulative weights.
Everything is sorted once at construction; a conditioned quantile grid then
costs one bisect per level, which keeps ``estimate()`` far below a millisecond.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate

from headstart.domain.estimate.errors import InvalidEstimateInput

# Past this share of the top weight the survivors are too few to trust on their own.
TAIL_SHARE = 0.01


@dataclass(frozen=True)
class WeightedSample:
    """Durations in hours, ascending, with the running total of their weights."""

    values: tuple[float, ...]
    cumulative: tuple[float, ...]
    tail_threshold: float  # the duration above which only TAIL_SHARE of the weight lies

    @classmethod
    def of(cls, pairs: Iterable[tuple[float, float]]) -> WeightedSample:
        """Build from (duration hours, weight) pairs; weights must be positive."""
        ordered = sorted(pairs)
        if not ordered or any(w <= 0.0 for _, w in ordered):
            raise InvalidEstimateInput("a sample needs at least one positively weighted value")
        values = tuple(v for v, _ in ordered)
        return cls._sorted(values, tuple(accumulate(w for _, w in ordered)))

    @classmethod
    def mixed(
        cls, prior: Sequence[float], prior_each: float, observed: Iterable[float]
    ) -> WeightedSample:
        """Sorted prior draws at ``prior_each`` apiece plus observations at weight one.

        Without observations no pairs are built: this is the common case at
        launch, and skipping it keeps construction of the estimator quick.
        """
        extra = sorted(observed)
        if extra:
            return cls.of([(v, prior_each) for v in prior] + [(v, 1.0) for v in extra])
        if not prior or prior_each <= 0.0:
            raise InvalidEstimateInput("a sample needs at least one positively weighted value")
        return cls._sorted(tuple(prior), tuple(prior_each * (i + 1) for i in range(len(prior))))

    @classmethod
    def _sorted(cls, values: tuple[float, ...], cumulative: tuple[float, ...]) -> WeightedSample:
        cut = bisect_left(cumulative, (1.0 - TAIL_SHARE) * cumulative[-1])
        return cls(values, cumulative, values[min(cut, len(values) - 1)])

    def quantiles(self, levels: Sequence[float]) -> tuple[float, ...]:
        """Unconditioned quantiles (elapsed time zero)."""
        return self.remaining(0.0, levels)

    def remaining(self, elapsed: float, levels: Sequence[float]) -> tuple[float, ...]:
        """Quantiles of (duration - elapsed) among durations longer than ``elapsed``.

        A shipment that has outlived almost every sample is not about to arrive
        "any minute": past the top ``TAIL_SHARE`` of the weight, the remaining time
        is taken as the excess of the tail over its threshold, a conservative
        stand-in for the data the sample does not have. Should even that be empty
        (ties at the very top), the unconditioned sample answers, as if anew.
        """
        cut_at = min(max(elapsed, 0.0), self.tail_threshold)
        start = bisect_right(self.values, cut_at)
        if start == len(self.values):
            cut_at, start = 0.0, bisect_right(self.values, 0.0)
            if start == len(self.values):
                return tuple(0.0 for _ in levels)
        base = self.cumulative[start - 1] if start else 0.0
        span = self.cumulative[-1] - base
        last = len(self.values) - 1
        grid = []
        for p in levels:
            i = bisect_left(self.cumulative, base + p * span, start)
            grid.append(self.values[min(i, last)] - cut_at)
        return tuple(grid)
