"""Buyers: per-SKU Poisson demand with weekly and yearly seasonality and a peak season.

The rate of SKU i on day d is ``base_i x weekly(d) x yearly(d) x peak(d)``:

- weekly: buyers shop more at the weekend (assumed shape, mean 1);
- yearly: a gentle sinusoid, highest in early December, lowest in June
  (amplitude 0.15, assumed);
- peak season: from the Friday after US Thanksgiving to Christmas the rate is
  multiplied by ``peak_factor`` (default 1.8, assumed), with Black Friday and
  Cyber Monday at twice that.

Base rates are lognormal across SKUs (a long tail of slow movers). Every day draws
every SKU's arrivals from one stream in one vectorized call, whether or not the
SKU can be bought, so the paired runs see the very same buyers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

WEEKLY = (0.92, 0.9, 0.93, 0.95, 1.02, 1.15, 1.13)  # Monday .. Sunday; mean 1.0
YEARLY_AMPLITUDE = 0.15
YEARLY_PEAK_DAY = 340  # day of the year (early December)
REGIONS = ("us-west", "us-central", "us-east")
REGION_WEIGHTS = (0.4, 0.25, 0.35)
QUANTITY_WEIGHTS = (0.85, 0.1, 0.05)  # 1, 2 or 3 units per order


def thanksgiving(year: int) -> date:
    """The fourth Thursday of November."""
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 21)


def peak_factor_on(day: date, peak_factor: float) -> float:
    """Holiday peak: Black Friday to Christmas Eve; the two big days twice as busy."""
    black_friday = thanksgiving(day.year) + timedelta(days=1)
    if day in (black_friday, black_friday + timedelta(days=3)):
        return 2.0 * peak_factor
    if black_friday <= day <= date(day.year, 12, 24):
        return peak_factor
    return 1.0


def seasonality(day: date, peak_factor: float = 1.8) -> float:
    """The multiplier of every SKU's base rate on ``day``."""
    yearly = 1.0 + YEARLY_AMPLITUDE * math.cos(
        2 * math.pi * (day.timetuple().tm_yday - YEARLY_PEAK_DAY) / 365.25
    )
    return WEEKLY[day.weekday()] * yearly * peak_factor_on(day, peak_factor)


def base_rates(
    rng: np.random.Generator, skus: int, mean_per_day: float, sigma: float = 0.8
) -> np.ndarray:
    """Per-SKU base demand (orders a day), lognormal with the given mean."""
    mu = math.log(mean_per_day) - sigma * sigma / 2
    return np.asarray(rng.lognormal(mu, sigma, size=skus))


class SeasonCurve:
    """``seasonality`` by day from ``first``, summed quickly over any span of days."""

    def __init__(self, first: date, days: int, peak_factor: float) -> None:
        factors = [seasonality(first + timedelta(days=d), peak_factor) for d in range(days)]
        self._cumulative = np.concatenate(([0.0], np.cumsum(factors)))
        self.factors = factors

    def total(self, from_day: float, span: float) -> float:
        """The sum of the multipliers over ``span`` days from day ``from_day``."""
        last = len(self._cumulative) - 1
        start = min(max(int(from_day), 0), last)
        end = min(max(math.ceil(from_day + span), start), last)
        whole = end - start
        covered = float(self._cumulative[end] - self._cumulative[start])
        return covered * span / whole if whole else span * self.factors[-1]


@dataclass(frozen=True)
class Arrival:
    """A buyer: which SKU, when (hour of the day), how many, from where, and the buyer's
    own dice for the choices head start may offer (accept a later date, cancel a delay)."""

    sku_index: int
    hour: float
    quantity: int
    region: str
    patience: float  # uniform: compared with the chance of accepting a head-start date
    cancel_draw: float  # uniform: compared with the share of buyers who cancel on a delay


def draw_day(
    rng: np.random.Generator, rates: np.ndarray, day: date, peak_factor: float
) -> list[Arrival]:
    """Every buyer of ``day``, sorted by hour; consumes the stream the same way every run."""
    counts = rng.poisson(rates * seasonality(day, peak_factor))
    total = int(counts.sum())
    sku_index = np.repeat(np.arange(len(rates)), counts)
    hours = rng.uniform(0.0, 24.0, size=total)
    quantities = rng.choice(len(QUANTITY_WEIGHTS), size=total, p=QUANTITY_WEIGHTS) + 1
    regions = rng.choice(len(REGIONS), size=total, p=REGION_WEIGHTS)
    dice = rng.uniform(size=(total, 2))
    arrivals = [
        Arrival(
            int(sku_index[i]),
            float(hours[i]),
            int(quantities[i]),
            REGIONS[int(regions[i])],
            float(dice[i, 0]),
            float(dice[i, 1]),
        )
        for i in range(total)
    ]
    arrivals.sort(key=lambda a: (a.hour, a.sku_index))
    return arrivals
