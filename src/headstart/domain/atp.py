"""Cumulative available-to-promise per (SKU, FC) (R6).

``S(d)`` is the supply that will be sellable by date ``d``; ``D(d)`` the units
of open orders promised in stock by ``d``. Both are step functions that only
change on the dates of their entries, so every query walks those dates once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import accumulate

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Entry:
    """Units that arrive (supply) or are promised (demand) on ``day``."""

    day: date
    quantity: int


@dataclass(frozen=True)
class Slack:
    """``S(d) - D(d)`` from ``day`` until the next breakpoint."""

    day: date
    value: int


def slack_curve(supply: Iterable[Entry], demand: Iterable[Entry]) -> list[Slack]:
    """The step function ``S(d) - D(d)`` at each date where it changes."""
    delta: dict[date, int] = {}
    for entry in supply:
        delta[entry.day] = delta.get(entry.day, 0) + entry.quantity
    for entry in demand:
        delta[entry.day] = delta.get(entry.day, 0) - entry.quantity
    days = sorted(delta)
    return [
        Slack(day, value)
        for day, value in zip(days, accumulate(delta[d] for d in days), strict=True)
    ]


def _suffix_minimum(curve: Sequence[Slack]) -> list[int]:
    result = [0] * len(curve)
    running: int | None = None
    for index in range(len(curve) - 1, -1, -1):
        running = curve[index].value if running is None else min(running, curve[index].value)
        result[index] = running
    return result


def is_feasible(supply: Iterable[Entry], demand: Iterable[Entry]) -> bool:
    """R6 invariant: ``D(d) <= S(d)`` for every date ``d``."""
    return all(point.value >= 0 for point in slack_curve(supply, demand))


def earliest_date(
    supply: Iterable[Entry], demand: Iterable[Entry], quantity: int, not_before: date
) -> date | None:
    """R6: the earliest ``d* >= not_before`` with ``S(d') - D(d') >= n`` for all ``d' >= d*``.

    ``None`` when no such date exists: the units are not buyable.
    """
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    curve = slack_curve(supply, demand)
    suffix = _suffix_minimum(curve)
    for index, point in enumerate(curve):
        # Slack is constant between breakpoints, so the answer is a breakpoint
        # (or ``not_before`` itself, when it falls inside a good stretch).
        if suffix[index] < quantity:
            continue
        next_day = curve[index + 1].day if index + 1 < len(curve) else None
        if next_day is not None and next_day <= not_before:
            continue
        return max(point.day, not_before)
    return None


def available_from(supply: Iterable[Entry], demand: Iterable[Entry], day: date) -> int:
    """Units a new order could get promised for ``day`` or later: ``min_{d' >= day} S - D``."""
    curve = slack_curve(supply, demand)
    at_day = [p.value for p in curve if p.day <= day]
    values = [p.value for p in curve if p.day > day]
    values.append(at_day[-1] if at_day else 0)
    return max(0, min(values))


def cap_supply(entries: Sequence[Entry], cap: int) -> list[Entry]:
    """R1a: keep the earliest supply up to ``cap`` units; later units are not offered."""
    kept: list[Entry] = []
    left = max(0, cap)
    for entry in sorted(entries, key=lambda e: e.day):
        if left <= 0:
            break
        take = min(entry.quantity, left)
        kept.append(Entry(entry.day, take))
        left -= take
    return kept


class SlackCalendar:
    """``S(d) - D(d)`` on a fixed set of days, with demand added one entry at a time (R6).

    For passes that promise many orders in turn against the same supply (R9's
    re-promise): the slack on every day is kept as an array, so adding an order and
    each query is one vectorised operation over the days, where rebuilding the curve
    from every entry costs O(n) in Python each, O(n²) a pass. The answers are those of
    ``is_feasible`` and ``earliest_date`` on the same entries.

    ``days`` must hold every day a supply or demand entry can fall on: the slack only
    changes on those days, so it is known everywhere from its value on them.
    """

    def __init__(self, days: Iterable[date], supply: Iterable[Entry]) -> None:
        self._days = sorted(set(days))
        self._index = {day: index for index, day in enumerate(self._days)}
        values = [0] * len(self._days)
        for entry in supply:
            values[self._position(entry.day)] += entry.quantity
        self._slack: npt.NDArray[np.int64] = np.array(list(accumulate(values)), dtype=np.int64)

    def _position(self, day: date) -> int:
        position = self._index.get(day)
        if position is None:
            raise ValueError(f"{day} is not one of the calendar's days")
        return position

    def add_demand(self, entry: Entry) -> None:
        self._slack[self._position(entry.day) :] -= entry.quantity

    def is_feasible_with(self, entry: Entry) -> bool:
        """``is_feasible`` of the supply against the demand so far plus ``entry``."""
        position = self._position(entry.day)
        before, after = self._slack[:position], self._slack[position:]
        return bool((not before.size or before.min() >= 0) and after.min() >= entry.quantity)

    def earliest_date(self, quantity: int, not_before: date) -> date | None:
        """``earliest_date`` of the supply and the demand so far."""
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        # The slack is below ``quantity`` on the last day before which it stays there.
        below = np.flatnonzero(self._slack < quantity)
        first_good = int(below[-1]) + 1 if below.size else 0
        if first_good >= len(self._days):
            return None
        return max(self._days[first_good], not_before)
