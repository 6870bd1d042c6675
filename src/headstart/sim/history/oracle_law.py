"""The generator's laws as numpy draws, many futures of one shipment at once (for the oracle).

``oracle.py`` asks, at a snapshot, for a few hundred futures of one shipment drawn
from the generator's own law given what has happened by then. The draws here are
the generator's (``receiving.py``, ``conditions.py``) rewritten to draw vectors:
the generator itself draws one number at a time from ``random.Random`` and must
stay byte-for-byte as it is. A future comes with a weight (the likelihood of what
was seen, for what cannot be drawn conditionally), so every sampler returns
(values, weights).

Times are days since the history's start, as in ``draft.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np

from headstart.sim.history.conditions import REGIMES, Season, transition_rows
from headstart.sim.history.draft import Draft
from headstart.sim.history.parameters import GeneratorParameters

Array = np.ndarray
# What a shipment's record has shown by a snapshot: per event type, (time, ETA) in order.
Seen = Mapping[str, Sequence[tuple[float, float | None]]]


class TransitLaw(Protocol):
    """Delivery instants at the FC of one shipment's futures, with their weights."""

    def delivered(
        self, rng: np.random.Generator, n: int, d: Draft, seen: Seen, now: float
    ) -> tuple[Array, Array]: ...


_DAYS_PER_WEEK = 7
_ROBERT_FROM = 0.5  # below this bound, plain rejection accepts at least 31%
# Numerical Recipes' erfc (fractional error below 1.2e-7): numpy has no erf.
_ERFC = (
    -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
    0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277,
)  # fmt: skip


def normal_sf(x: Array | float) -> Array:
    """P(Z > x) for a standard normal Z, elementwise."""
    x = np.asarray(x, dtype=float)
    z = np.abs(x) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = np.zeros_like(z)
    for c in reversed(_ERFC[1:]):
        poly = c + t * poly
    erfc = t * np.exp(-z * z + _ERFC[0] + t * poly)
    return np.where(x >= 0, 0.5 * erfc, 1.0 - 0.5 * erfc)


def normal_pdf(x: Array | float) -> Array:
    x = np.asarray(x, dtype=float)
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def normal_above(rng: np.random.Generator, lower: Array) -> Array:
    """Standard normal draws, each conditioned on exceeding its ``lower`` (-inf: none).

    Plain rejection near the body, Robert's (1995) exponential proposal in the tail,
    so a shipment far into its stage costs no more than one on time.
    """
    lower = np.asarray(lower, dtype=float).ravel()
    out = np.empty(lower.size)
    pending = np.arange(lower.size)
    while pending.size:
        a = lower[pending]
        tail = a > _ROBERT_FROM
        z = rng.standard_normal(pending.size)
        ok = z > a
        if tail.any():
            at = a[tail]
            rate = (at + np.sqrt(at * at + 4.0)) / 2.0
            zt = at + rng.exponential(size=at.size) / rate
            z[tail] = zt
            ok[tail] = rng.random(at.size) <= np.exp(-0.5 * (zt - rate) ** 2)
        out[pending[ok]] = z[ok]
        pending = pending[~ok]
    return out


def uniform(rng: np.random.Generator, span: tuple[float, float], n: int) -> Array:
    low, high = span
    return low + (high - low) * rng.random(n)


def weighted_quantiles(values: Array, weights: Array, levels: Sequence[float]) -> list[float]:
    """Per level q, the smallest value whose weighted share at or below it reaches q."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    index = np.searchsorted(cumulative, np.asarray(levels) * cumulative[-1], side="left")
    return [float(v) for v in values[order][np.minimum(index, values.size - 1)]]


def effective_size(weights: Array) -> float:
    total = float(weights.sum())
    squares = float((weights * weights).sum())
    return total * total / squares if squares > 0 else 0.0


class RegimeChain:
    """The weekly ocean regime: known up to the current week, the Markov chain after it."""

    def __init__(
        self, parameters: GeneratorParameters, weekly: Sequence[str], horizon: int = 80
    ) -> None:
        rows = transition_rows(parameters)
        step = np.zeros((len(REGIMES), len(REGIMES)))
        for i, here in enumerate(REGIMES):
            for there, p in rows[here]:
                step[i, REGIMES.index(there)] += p
        powers = [np.eye(len(REGIMES))]
        for _ in range(horizon):
            powers.append(powers[-1] @ step)
        self._cumulative = np.cumsum(np.array(powers), axis=2)
        self._weekly = np.array([REGIMES.index(r) for r in weekly], dtype=int)
        self._horizon = horizon

    def week_of(self, day: Array | float) -> Array:
        """The week index the generator looks up (``OceanTransit.regime_at``), clamped."""
        weeks = np.floor(np.asarray(day, dtype=float) / _DAYS_PER_WEEK).astype(int)
        return np.clip(weeks, 0, self._weekly.size - 1)

    def known(self, day: float) -> int:
        return int(self._weekly[int(self.week_of(day))])

    def _step(self, rng: np.random.Generator, state: Array, weeks: Array) -> Array:
        k = np.clip(weeks, 0, self._horizon)
        cumulative = self._cumulative[k, state]
        u = rng.random(state.size)
        return np.minimum((cumulative < u[:, None]).sum(axis=1), len(REGIMES) - 1)

    def after(self, rng: np.random.Generator, now: float, days: Array) -> Array:
        """The regime of each of ``days`` (regime indices), given the chain up to ``now``."""
        current = int(self.week_of(now))
        weeks = self.week_of(days)
        drawn = self._step(rng, np.full(weeks.size, self._weekly[current]), weeks - current)
        return np.where(weeks <= current, self._weekly[np.minimum(weeks, current)], drawn)

    def then(
        self,
        rng: np.random.Generator,
        now: float,
        first: Array,
        first_regime: Array,
        second: Array,
    ) -> Array:
        """The regime at each of ``second`` (days), given ``first_regime`` at ``first``."""
        current = int(self.week_of(now))
        w1, w2 = self.week_of(first), self.week_of(second)
        base = np.where(w1 > current, first_regime, self._weekly[current])
        drawn = self._step(rng, base, w2 - np.maximum(w1, current))
        return np.where(w2 <= current, self._weekly[np.minimum(w2, current)], drawn)


class ReceivingLaw:
    """``receiving.py``'s R = exp(a + b x + noise), with every other shipment held fixed.

    x needs the FC's backlog at this shipment's delivery: the others' deliveries
    are kept as drawn (the oracle does not resample them), this one's is moved.
    """

    def __init__(
        self,
        drafts: Sequence[Draft],
        parameters: GeneratorParameters,
        start: datetime,
        fitted: Mapping[str, tuple[float, float]],
    ) -> None:
        p = parameters
        self.window = p.value("receiving.backlog_window_days")
        fcs = p.names("fc", "share")
        per_window = len(drafts) * self.window / p.value("history.days")
        per_window /= sum(p.value(f"fc.{fc}.share") for fc in fcs)
        self._expected = {fc: per_window * p.value(f"fc.{fc}.share") for fc in fcs}
        self._fc = {fc: math.log(p.value(f"fc.{fc}.receiving_factor")) for fc in fcs}
        modes = p.names("mode", "receiving_factor")
        self._mode = {m: math.log(p.value(f"mode.{m}.receiving_factor")) for m in modes}
        self._load_min = p.value("receiving.backlog_load.min")
        self._elasticity = p.value("receiving.backlog_elasticity")
        self._fit = {False: fitted["off_peak"], True: fitted["peak"]}
        self._sigma = {
            False: p.value("receiving.residual_sigma"),
            True: p.value("receiving.peak.residual_sigma"),
        }
        self.started = p.span("receiving.started")
        deliveries: dict[str, list[float]] = {}
        for d in drafts:
            deliveries.setdefault(d.fc, []).append(d.delivered)
        self._deliveries = {fc: np.sort(np.array(times)) for fc, times in deliveries.items()}
        self._season = Season(p, start)
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        self._shift = (start - midnight) / timedelta(days=1)
        # Per calendar day from the start's midnight; ocean tails run half a year on.
        span = int(p.value("history.days")) + 400
        self._peak = np.array([self._season.is_peak(i + 0.5 - self._shift) for i in range(span)])

    def is_peak(self, days: Array) -> Array:
        """``Season.is_peak`` of each instant (days since the start)."""
        index = np.floor(days + self._shift).astype(int)
        inside = (index >= 0) & (index < self._peak.size)
        peak = self._peak[np.clip(index, 0, self._peak.size - 1)]
        if not inside.all():
            outside = [self._season.is_peak(float(day)) for day in days[~inside]]
            peak = peak.copy()
            peak[~inside] = outside
        return peak

    def log_location(self, draft: Draft, delivered: Array) -> tuple[Array, Array]:
        """(mean, sigma) of log R for deliveries of ``draft`` at each of ``delivered``."""
        times = self._deliveries.get(draft.fc, np.empty(0))
        backlog = np.searchsorted(times, delivered, "left") - np.searchsorted(
            times, delivered - self.window, "left"
        )
        own = (draft.delivered >= delivered - self.window) & (draft.delivered < delivered)
        backlog = backlog - own
        expected = self._expected.get(draft.fc, 0.0) + 1.0
        load = np.maximum((backlog + 1.0) / expected, self._load_min)
        x = self._fc.get(draft.fc, 0.0) + self._mode.get(draft.mode, 0.0)
        x = x + self._elasticity * np.log(load)
        peak = self.is_peak(delivered)
        (a0, b0), (a1, b1) = self._fit[False], self._fit[True]
        mean = np.where(peak, a1 + b1 * x, a0 + b0 * x)
        return mean, np.where(peak, self._sigma[True], self._sigma[False])

    def in_stock(self, rng: np.random.Generator, draft: Draft, delivered: Array) -> Array:
        """In-stock instants for deliveries at ``delivered`` (receiving drawn fresh)."""
        mean, sigma = self.log_location(draft, delivered)
        return delivered + np.exp(mean + sigma * rng.standard_normal(delivered.size))

    def in_stock_at_fc(
        self, rng: np.random.Generator, n: int, draft: Draft, now: float, started: float | None
    ) -> tuple[Array, Array]:
        """In-stock instants once delivered: R conditioned on what ``now`` has shown.

        Not in stock yet: R > elapsed. Receiving started at ``started``: the wait
        is R x U(started span), so R lies in [wait / high, wait / low] with
        likelihood 1 / R; not started yet: weight P(wait > elapsed | R).
        """
        delivered = draft.delivered
        mean, sigma = (float(v[0]) for v in self.log_location(draft, np.array([delivered])))
        elapsed = now - delivered
        low, high = self.started
        if started is not None:
            wait = started - delivered
            lo, hi = max(wait / high, elapsed), wait / low
            if not lo < hi:  # rounding at the minute; what was seen pins R
                return np.full(n, delivered + hi), np.ones(n)
            y = uniform(rng, (math.log(lo), math.log(hi)), n)
            weights = normal_pdf((y - mean) / sigma) * np.exp(-y)
            return delivered + np.exp(y), weights
        bound = (math.log(elapsed) - mean) / sigma if elapsed > 0 else -math.inf
        receiving = np.exp(mean + sigma * normal_above(rng, np.full(n, bound)))
        weights = np.clip((high - elapsed / receiving) / (high - low), 0.0, 1.0)
        return delivered + receiving, weights
