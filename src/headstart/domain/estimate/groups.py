"""Fitting one (mode, season) group: prior draws mixed with that group's closed shipments.

Kept apart from the estimator so the estimator reads as the conditioning
logic alone. Prior draws are a pure function of (seed, mode, season, size) and
are memoised, so refitting when history grows (each closed shipment) costs a
merge of sorted runs rather than fresh sampling.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from headstart.domain.estimate.distribution import LEVELS
from headstart.domain.estimate.instants import hours_between
from headstart.domain.estimate.prior import is_peak, sample_receiving, sample_transit
from headstart.domain.estimate.progress import ClosedShipment
from headstart.domain.estimate.weighted import WeightedSample


@dataclass(frozen=True)
class Observation:
    """One closed shipment as durations; receiving is None when delivery went unrecorded."""

    mode: str
    peak: bool
    transit_hours: float
    receiving_hours: float | None

    @classmethod
    def of(cls, shipment: ClosedShipment) -> Observation:
        if shipment.delivered_at is None:
            # The whole shipped -> in stock span counts as transit (receiving 0), so the
            # total stays right; it says nothing about receiving alone, hence None.
            return cls(
                shipment.mode,
                is_peak(shipment.shipped_at),
                hours_between(shipment.shipped_at, shipment.in_stock_at),
                None,
            )
        return cls(
            shipment.mode,
            is_peak(shipment.shipped_at),
            hours_between(shipment.shipped_at, shipment.delivered_at),
            hours_between(shipment.delivered_at, shipment.in_stock_at),
        )


@dataclass(frozen=True)
class Group:
    total: WeightedSample  # shipped -> in stock
    receiving: WeightedSample  # delivered -> in stock
    receiving_grid: tuple[float, ...]  # unconditioned receiving quantiles at LEVELS
    history_count: int


def fit_group(
    seed: int,
    mode: str,
    peak: bool,
    prior_samples: int,
    prior_weight: float,
    observed: Sequence[Observation],
) -> Group:
    totals, receivings = _prior_draws(seed, mode, peak, prior_samples)
    each = prior_weight / prior_samples
    total = (o.transit_hours + (o.receiving_hours or 0.0) for o in observed)
    receiving = (o.receiving_hours for o in observed if o.receiving_hours is not None)
    receiving_sample = WeightedSample.mixed(receivings, each, receiving)
    return Group(
        total=WeightedSample.mixed(totals, each, total),
        receiving=receiving_sample,
        receiving_grid=receiving_sample.quantiles(LEVELS),
        history_count=len(observed),
    )


def _season(peak: bool) -> str:
    return "peak" if peak else "off_peak"


@lru_cache(maxsize=64)
def _prior_draws(
    seed: int, mode: str, peak: bool, n: int
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Sorted (transit + receiving, receiving) prior draws of one group, in hours.

    A pure function of its arguments, so it is memoised: refitting on new
    history (every closed shipment changes it) then costs a merge, not a
    resampling. Each group has its own random stream, so adding a mode or
    changing one group's size leaves the others' draws as they were.
    """
    receiving = _receiving_draws(seed, peak, n)
    rng = random.Random(f"{seed}:{mode}:{_season(peak)}")
    totals = sorted(sample_transit(mode, rng, peak) + r for r in receiving)
    return tuple(totals), tuple(sorted(receiving))


@lru_cache(maxsize=16)
def _receiving_draws(seed: int, peak: bool, n: int) -> tuple[float, ...]:
    """Receiving is an FC matter, the same for every mode: draw it once per season."""
    rng = random.Random(f"{seed}:receiving:{_season(peak)}")
    return tuple(sample_receiving(rng, peak) for _ in range(n))
