"""Distribution shapes fitted to the published figures, and the draws built on them."""

from __future__ import annotations

import math
import random
from statistics import NormalDist

_Z90 = NormalDist().inv_cdf(0.90)


def lognormal_from_median_p90(median: float, p90: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal with this median and 90th percentile."""
    return math.log(median), math.log(p90 / median) / _Z90


def lognormal_from_mean(mean: float, sigma: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal with this mean and shape."""
    return math.log(mean) - sigma * sigma / 2.0, sigma


def lognormal_from_mean_tail(mean: float, over: float, share: float) -> tuple[float, float]:
    """(mu, sigma) with the given mean and P(X > over) = share (the narrower solution)."""
    z = NormalDist().inv_cdf(1.0 - share)
    sigma = z - math.sqrt(z * z - 2.0 * (math.log(over) - math.log(mean)))
    return math.log(mean) - sigma * sigma / 2.0, sigma


def draw_lognormal(rng: random.Random, mu_sigma: tuple[float, float]) -> float:
    return math.exp(rng.gauss(*mu_sigma))


def draw_uniform(rng: random.Random, span: tuple[float, float]) -> float:
    low, high = span
    return low + (high - low) * rng.random()
