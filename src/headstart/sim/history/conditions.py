"""The slow-moving state of the world, drawn week by week before any shipment.

Two processes, each from its own random stream so they do not depend on how many
shipments are drawn:

- the transpacific ocean regime (normal, strained, disrupted, crisis), a weekly
  Markov chain (PARAMETERS.md: "switch between them as a Markov chain by week");
  the chain starts in "normal";
- volume surges: a weekly AR(1) swing in log volume, one for the whole network
  and one per FC (assumed). They make the FCs' receiving backlog move, which in
  turn moves receiving times (see ``receiving.py``).

and the calendar's peak season (mid-October through December).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from headstart.sim.history.parameters import GeneratorParameters

REGIMES: tuple[str, ...] = ("normal", "strained", "disrupted", "crisis")


def transition_rows(parameters: GeneratorParameters) -> dict[str, list[tuple[str, float]]]:
    """Per regime, the (next regime, probability) pairs; staying takes the remainder."""
    rows: dict[str, list[tuple[str, float]]] = {}
    for here in REGIMES:
        moves = [
            (there, parameters.value(f"ocean.regime.{here}.to.{there}"))
            for there in REGIMES
            if f"ocean.regime.{here}.to.{there}" in parameters.table
        ]
        stay = 1.0 - sum(p for _, p in moves)
        if stay < 0:
            raise ValueError(f"ocean regime {here!r}: transition probabilities exceed 1")
        rows[here] = [(here, stay), *moves]
    return rows


def draw_regimes(parameters: GeneratorParameters, rng: random.Random, weeks: int) -> list[str]:
    """The ocean regime of each week from the start, a Markov chain started in "normal"."""
    rows = transition_rows(parameters)
    state, weekly = "normal", []
    for _ in range(weeks):
        weekly.append(state)
        u, cumulative = rng.random(), 0.0
        for there, p in rows[state]:
            cumulative += p
            if u < cumulative:
                state = there
                break
    return weekly


def draw_surge(
    parameters: GeneratorParameters, rng: random.Random, weeks: int, scope: str
) -> list[float]:
    """Weekly volume multipliers with mean one: exp of a stationary AR(1) in logs.

    ``scope`` is "network" (all shipments) or "fc" (one FC's share).
    """
    sigma = parameters.value(f"volume.{scope}.surge_sigma")
    phi = parameters.value("volume.surge_persistence")
    step = sigma * math.sqrt(1.0 - phi * phi)
    x = rng.gauss(0.0, sigma)
    multipliers = []
    for _ in range(weeks):
        multipliers.append(math.exp(x - sigma * sigma / 2.0))
        x = phi * x + rng.gauss(0.0, step)
    return multipliers


def regime_weeks(weekly: Sequence[str]) -> dict[str, int]:
    """How many weeks each regime held, every regime listed."""
    return {regime: sum(1 for r in weekly if r == regime) for regime in REGIMES}


class Season:
    """Peak season on the UTC calendar, for instants given as days since ``start``."""

    def __init__(self, parameters: GeneratorParameters, start: datetime) -> None:
        self._midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        self._offset = (start - self._midnight) / timedelta(days=1)
        self._first = (
            int(parameters.value("peak.start_month")),
            int(parameters.value("peak.start_day")),
        )
        self._by_date: dict[int, bool] = {}

    def is_peak(self, day: float) -> bool:
        index = math.floor(day + self._offset)
        peak = self._by_date.get(index)
        if peak is None:
            at = self._midnight + timedelta(days=index)
            peak = self._by_date[index] = (at.month, at.day) >= self._first
        return peak
