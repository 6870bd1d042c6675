"""At the FC: from delivery to sellable, and the units that go missing on the way.

Receiving time R, in days from delivery to in stock (the assumed form)::

    log R = a(season) + b(season) * x + N(0, s(season))
    x     = log f(FC) + log g(mode) + e * log(load)
    load  = max((B + 1) / (B_expected + 1), load_min)

- ``B``: shipments delivered to the same FC in the 7 days before this delivery,
  the backlog a model can count from the history itself; ``B_expected`` the FC's
  average over 7 days (shipments x FC share x 7 / history days). An FC with
  little backlog is no faster than at half its usual load. ``e`` = 1.8.
- ``f``: the FC's own speed; ``g``: the freight's (parcels are quick to count,
  floor-loaded containers slow). Both assumed.
- ``s``: the spread nothing in the history explains (assumed: 0.3 in both
  seasons; a perfect model is left with this much).
- ``a`` and ``b`` are fitted to the drawn history, per season, so that over all
  FCs, modes and loads the published figures hold exactly: off-peak median 1.5 d
  and p90 4 d, peak (delivered mid-October through December) median 4 d and
  p90 14 d. ``b`` above one means receiving is more sensitive to load than
  ``e`` says (in peak, FCs near capacity); ``b`` stays within 0.25-4.

Receiving starts after a 30-80% share of R (the wait for a dock and labour);
ocean containers are checked in at the yard 1-6 h after delivery.

Shortfalls: each seller loses a share ~ Beta(mean 3.5%, a + b = 20) of its units
(PARAMETERS.md: per seller ~ beta, mean 2-5%). A shipment comes up short with
probability 0.2 and then misses about share / 0.2 of its units (0.5-1.5 times
that, at least one), so the seller's units short average its share.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence

from headstart.sim.history.conditions import Season
from headstart.sim.history.draft import Draft
from headstart.sim.history.parameters import GeneratorParameters
from headstart.sim.history.shapes import draw_uniform

_CHECKED_IN_MODES = frozenset({"ocean"})
_STRETCH = (0.25, 4.0)
_FIT_MIN_DELIVERIES = 30


def _backlogs(drafts: Sequence[Draft], window: float) -> list[int]:
    """Per draft, the shipments delivered to its FC in the ``window`` days before it."""
    deliveries: dict[str, list[float]] = {}
    for d in drafts:
        deliveries.setdefault(d.fc, []).append(d.delivered)
    for times in deliveries.values():
        times.sort()
    return [
        bisect.bisect_left(deliveries[d.fc], d.delivered)
        - bisect.bisect_left(deliveries[d.fc], d.delivered - window)
        for d in drafts
    ]


def _explained(drafts: Sequence[Draft], parameters: GeneratorParameters) -> list[float]:
    """x per draft: what the FC, the freight and the FC's backlog say about receiving."""
    p = parameters
    window = p.value("receiving.backlog_window_days")
    fcs = p.names("fc", "share")
    per_window = len(drafts) * window / p.value("history.days")
    per_window /= sum(p.value(f"fc.{fc}.share") for fc in fcs)
    expected = {fc: per_window * p.value(f"fc.{fc}.share") for fc in fcs}
    fc_factor = {fc: math.log(p.value(f"fc.{fc}.receiving_factor")) for fc in fcs}
    modes = p.names("mode", "receiving_factor")
    mode_factor = {mode: math.log(p.value(f"mode.{mode}.receiving_factor")) for mode in modes}
    load_min = p.value("receiving.backlog_load.min")
    elasticity = p.value("receiving.backlog_elasticity")
    return [
        fc_factor.get(d.fc, 0.0)
        + mode_factor.get(d.mode, 0.0)
        + elasticity * math.log(max((b + 1.0) / (expected.get(d.fc, 0.0) + 1.0), load_min))
        for d, b in zip(drafts, _backlogs(drafts, window), strict=True)
    ]


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    return sorted_values[min(int(q * len(sorted_values)), len(sorted_values) - 1)]


def _fit(
    xs: Sequence[float], noise: Sequence[float], median: float, p90: float
) -> tuple[float, float]:
    """(a, b) with median(a + b x + noise) = log median and the p90 likewise."""
    if len(xs) < _FIT_MIN_DELIVERIES:
        return math.log(median) - (sorted(xs)[len(xs) // 2] if xs else 0.0), 1.0

    def spread(b: float) -> tuple[float, float]:
        values = sorted(b * x + e for x, e in zip(xs, noise, strict=True))
        return _quantile(values, 0.9) - _quantile(values, 0.5), _quantile(values, 0.5)

    target = math.log(p90 / median)
    low, high = _STRETCH
    for _ in range(20):  # bisection: the spread grows with b
        middle = (low + high) / 2
        low, high = (middle, high) if spread(middle)[0] < target else (low, middle)
    b = (low + high) / 2
    return math.log(median) - spread(b)[1], b


def receive_bulk(
    drafts: Sequence[Draft],
    parameters: GeneratorParameters,
    rng: random.Random,
    season: Season,
) -> dict[bool, tuple[float, float]]:
    """Fill in receiving (in stock, receiving events) of every draft; return (a, b) by peak."""
    p = parameters
    explained = _explained(drafts, p)
    peaks = [season.is_peak(d.delivered) for d in drafts]
    noise = [
        rng.gauss(
            0.0, p.value("receiving.peak.residual_sigma" if peak else "receiving.residual_sigma")
        )
        for peak in peaks
    ]
    fitted = {}
    for peak, infix in ((False, ""), (True, ".peak")):
        chosen = [i for i, is_peak in enumerate(peaks) if is_peak == peak]
        fitted[peak] = _fit(
            [explained[i] for i in chosen],
            [noise[i] for i in chosen],
            p.value(f"receiving{infix}.median_days"),
            p.value(f"receiving{infix}.p90_days"),
        )
    started = p.span("receiving.started")
    checked_in_hours = p.span("receiving.checked_in_hours")
    for d, x, e, peak in zip(drafts, explained, noise, peaks, strict=True):
        a, b = fitted[peak]
        receiving = math.exp(a + b * x + e)
        wait = receiving * draw_uniform(rng, started)
        if d.mode in _CHECKED_IN_MODES:
            checked_in = min(draw_uniform(rng, checked_in_hours) / 24.0, wait / 2)
            d.add("checked_in", d.delivered + checked_in)
        d.add("receiving_started", d.delivered + wait)
        d.in_stock = d.delivered + receiving
    return fitted


def short_ship_bulk(
    drafts: Sequence[Draft], parameters: GeneratorParameters, rng: random.Random
) -> None:
    """Set ``received`` for every draft: most in full, some short by their seller's share."""
    p = parameters
    mean = p.value("shortfall.seller_mean")
    concentration = p.value("shortfall.seller_concentration")
    share = p.value("shortfall.shipment_share")
    sellers = int(p.value("sellers.count"))
    seller_share = [
        rng.betavariate(mean * concentration, (1.0 - mean) * concentration) for _ in range(sellers)
    ]
    for d in drafts:
        d.received = d.quantity
        if rng.random() < share:
            missing = d.quantity * seller_share[d.seller] / share * draw_uniform(rng, (0.5, 1.5))
            d.received = d.quantity - min(d.quantity, max(1, round(missing)))
