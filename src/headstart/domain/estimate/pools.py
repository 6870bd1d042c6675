"""Pools of observed durations and their hierarchical mixture, sampled given time spent.

A pool is a sorted sample of one quantity (hours from a milestone to delivery,
hours of delivery after the carrier's ETA, hours of receiving) for one group.
A query names a chain of pools from the most specific group to the most general
(lane → mode + milestone → …); each takes the share n / (n + k) of what the
more specific ones left, with n counted among the durations that outlive the
time already spent. A sparse lane so borrows strength from its parent smoothly:
hierarchical shrinkage, not a cliff at some minimum count (section 4).

Draws are stratified, not random: component c gets its share of the N draws at
evenly spaced levels of its conditional distribution, so an estimate is
deterministic and its quantiles move smoothly as time passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from headstart.domain.estimate.errors import InvalidEstimateInput

Array = npt.NDArray[np.float64]
# Past this share of a pool's top the survivors are too few to stand for themselves.
TAIL_SHARE = 0.01
# At most this many values are kept per pool: evenly spaced quantiles of the rest.
MAX_POOL = 1000


@dataclass(frozen=True)
class Pool:
    """Sorted durations (hours) of one group and how many observations stand behind them."""

    values: Array
    count: int
    prior: bool = False  # drawn from the published figures, not observed
    tail_threshold: float = field(init=False)

    def __post_init__(self) -> None:
        cut = self.values[int((1.0 - TAIL_SHARE) * (self.values.size - 1))]
        object.__setattr__(self, "tail_threshold", float(cut))

    @classmethod
    def of(
        cls,
        values: Sequence[float] | Array,
        max_size: int = MAX_POOL,
        prior: bool = False,
        weights: Sequence[float] | Array | None = None,
    ) -> Pool:
        """A pool of ``values``; with ``weights``, their weighted quantiles at evenly
        spaced levels (the count stays the number of values: weights undo a
        selection, they do not add evidence)."""
        raw = np.asarray(values, dtype=np.float64)
        order = np.argsort(raw, kind="stable")
        data = raw[order]
        if data.size == 0 or not np.all(np.isfinite(data)):
            raise InvalidEstimateInput("a pool needs at least one finite value")
        count = int(data.size)
        w = None if weights is None else np.asarray(weights, dtype=np.float64)[order]
        if w is not None and count > 1 and np.ptp(w) > 0.0:
            size = min(count, max_size)
            at = (np.arange(size) + 0.5) / size
            positions = (np.cumsum(w) - 0.5 * w) / w.sum()
            data = np.interp(at, positions, data)
        elif count > max_size:
            levels = (np.arange(max_size) + 0.5) / max_size
            data = np.quantile(data, levels)
        # Rounded to 1/1000 hour (3.6 s) so that a stored model rebuilds exactly.
        return cls(np.round(data, 3), count, prior)

    def surviving(self, spent: float) -> tuple[int, float]:
        """(first index above ``spent``, share of the pool beyond it), spent capped at the tail."""
        start = int(np.searchsorted(self.values, min(spent, self.tail_threshold), side="right"))
        return start, (self.values.size - start) / self.values.size

    def draw(self, spent: float, levels: Array) -> Array:
        """Durations beyond ``spent`` minus ``spent``, at the given conditional levels.

        Past the top ``TAIL_SHARE`` the excess over the tail threshold stands in
        for data the pool does not have, stretched by how far past the threshold
        the shipment already is (spent / threshold): a wait that has outlived almost
        everything is not "about to end any minute", and in a heavy tail (receiving
        in peak, a vessel in a crisis) the time still to go grows with the time spent.
        """
        cut = min(spent, self.tail_threshold)
        size = self.values.size
        start = min(int(np.searchsorted(self.values, cut, side="right")), size - 1)
        left = size - start
        idx = start + np.minimum((levels * left).astype(np.int64), left - 1)
        out: Array = np.maximum(self.values[idx] - cut, 0.0)
        if spent > cut > 0.0:
            out = out * (spent / cut)
        return out

    def quantile_beyond(self, spent: Array, level: float) -> Array:
        """The ``level`` quantile of the remaining time for each of many ``spent`` (as ``draw``)."""
        size = self.values.size
        cut = np.minimum(spent, self.tail_threshold)
        start = np.minimum(np.searchsorted(self.values, cut, side="right"), size - 1)
        left = size - start
        idx = start + np.minimum((level * left).astype(np.int64), left - 1)
        stretch = np.where(cut > 0.0, np.asarray(spent) / np.where(cut > 0.0, cut, 1.0), 1.0)
        out: Array = np.maximum(self.values[idx] - cut, 0.0) * np.maximum(stretch, 1.0)
        return out

    def to_list(self) -> list[float]:
        return [round(float(v), 3) for v in self.values]


def chain_weights(
    chain: Sequence[tuple[Pool, float]], spent: Sequence[float]
) -> tuple[list[float], int]:
    """Mixture weights of a chain of (pool, shrinkage k), most specific first.

    The last pool takes whatever the others left. Returns the weights and the
    number of observations behind the first observed pool that carries any weight.
    """
    weights: list[float] = []
    left = 1.0
    behind = 0
    for i, ((pool, k), cut) in enumerate(zip(chain, spent, strict=True)):
        _, share = pool.surviving(cut)
        n = pool.count * share
        w = left if i == len(chain) - 1 else left * n / (n + k)
        weights.append(w)
        if w > 0.0 and behind == 0 and not pool.prior:
            behind = pool.count
        left -= w
    return weights, behind


def draw_chain(
    chain: Sequence[tuple[Pool, float]], spent: Sequence[float], size: int
) -> tuple[Array, int]:
    """``size`` stratified draws of the remaining time from the chain's mixture."""
    if not chain:
        raise InvalidEstimateInput("a chain needs at least one pool")
    weights, behind = chain_weights(chain, spent)
    counts = _apportion(weights, size)
    parts = [
        pool.draw(cut, _grid(n))
        for (pool, _), cut, n in zip(chain, spent, counts, strict=True)
        if n
    ]
    return (parts[0] if len(parts) == 1 else np.concatenate(parts)), behind


def draw_chain_scaled(
    chain: Sequence[tuple[Pool, float]], spent: float, scales: Sequence[float], size: int
) -> tuple[Array, int]:
    """``draw_chain`` where pool i holds durations in units of ``scales[i]`` (a parent pool
    of FCs put on a common level, say): ``spent`` and each pool's draws are converted."""
    if not chain:
        raise InvalidEstimateInput("a chain needs at least one pool")
    cuts = [spent / scale for scale in scales]
    weights, behind = chain_weights(chain, cuts)
    counts = _apportion(weights, size)
    parts = [
        pool.draw(cut, _grid(n)) * scale
        for (pool, _), cut, scale, n in zip(chain, cuts, scales, counts, strict=True)
        if n
    ]
    if not parts:
        return np.zeros(0), behind
    return (parts[0] if len(parts) == 1 else np.concatenate(parts)), behind


@lru_cache(maxsize=4096)
def _grid(n: int) -> Array:
    """Evenly spaced levels (i + 1/2) / n: the strata of n draws."""
    return (np.arange(n) + 0.5) / n


def _apportion(weights: Sequence[float], size: int) -> list[int]:
    """Largest-remainder rounding of ``weights * size`` to integers summing to ``size``."""
    raw = [w * size for w in weights]
    counts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[: size - sum(counts)]:
        counts[i] += 1
    return counts
