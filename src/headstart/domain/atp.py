"""Cumulative available-to-promise per (SKU, FC) (R6).

``S(d)`` is the supply that will be sellable by date ``d``; ``D(d)`` the units
of open orders promised in stock by ``d``. Both are step functions that only
change on the dates of their entries, so every query walks those dates once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import accumulate


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
    re-promise): each query and each added order costs O(log n) in the number of
    days, where rebuilding the curve from every entry costs O(n) each, O(n²) a pass.
    The answers are those of ``is_feasible`` and ``earliest_date`` on the same entries.

    ``days`` must hold every day a supply or demand entry can fall on: the slack only
    changes on those days, so it is known everywhere from its value on them.
    """

    def __init__(self, days: Iterable[date], supply: Iterable[Entry]) -> None:
        self._days = sorted(set(days))
        self._index = {day: index for index, day in enumerate(self._days)}
        values = [0] * len(self._days)
        for entry in supply:
            values[self._position(entry.day)] += entry.quantity
        self._tree = _SuffixAddMinTree(list(accumulate(values)))

    def _position(self, day: date) -> int:
        position = self._index.get(day)
        if position is None:
            raise ValueError(f"{day} is not one of the calendar's days")
        return position

    def add_demand(self, entry: Entry) -> None:
        self._tree.add_from(self._position(entry.day), -entry.quantity)

    def is_feasible_with(self, entry: Entry) -> bool:
        """``is_feasible`` of the supply against the demand so far plus ``entry``."""
        position = self._position(entry.day)
        return (
            self._tree.minimum(0, position) >= 0
            and self._tree.minimum(position, len(self._days)) >= entry.quantity
        )

    def earliest_date(self, quantity: int, not_before: date) -> date | None:
        """``earliest_date`` of the supply and the demand so far."""
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        # The slack is below ``quantity`` on the last day before which it stays there.
        first_good = self._tree.last_below(quantity) + 1
        if first_good >= len(self._days):
            return None
        return max(self._days[first_good], not_before)


class _SuffixAddMinTree:
    """A segment tree over positions 0..n-1: add to every position from one on, the
    minimum over a range, the last position holding less than a value; O(log n) each."""

    def __init__(self, values: list[int]) -> None:
        self._n = len(values)
        self._min = [0] * (4 * max(1, self._n))
        self._pending = [0] * (4 * max(1, self._n))
        if self._n:
            self._build(1, 0, self._n - 1, values)

    def _build(self, node: int, low: int, high: int, values: list[int]) -> None:
        if low == high:
            self._min[node] = values[low]
            return
        middle = (low + high) // 2
        self._build(2 * node, low, middle, values)
        self._build(2 * node + 1, middle + 1, high, values)
        self._min[node] = min(self._min[2 * node], self._min[2 * node + 1])

    def _push(self, node: int) -> None:
        delta = self._pending[node]
        if delta:
            for child in (2 * node, 2 * node + 1):
                self._min[child] += delta
                self._pending[child] += delta
            self._pending[node] = 0

    def add_from(self, start: int, delta: int) -> None:
        if start < self._n:
            self._add(1, 0, self._n - 1, start, delta)

    def _add(self, node: int, low: int, high: int, start: int, delta: int) -> None:
        if high < start:
            return
        if start <= low:
            self._min[node] += delta
            self._pending[node] += delta
            return
        self._push(node)
        middle = (low + high) // 2
        self._add(2 * node, low, middle, start, delta)
        self._add(2 * node + 1, middle + 1, high, start, delta)
        self._min[node] = min(self._min[2 * node], self._min[2 * node + 1])

    def minimum(self, start: int, stop: int) -> float:
        """The smallest value at positions ``start..stop-1``; infinity when none."""
        if start >= stop or start >= self._n:
            return math.inf
        return self._minimum(1, 0, self._n - 1, start, min(stop, self._n) - 1)

    def _minimum(self, node: int, low: int, high: int, start: int, last: int) -> float:
        if last < low or high < start:
            return math.inf
        if start <= low and high <= last:
            return self._min[node]
        self._push(node)
        middle = (low + high) // 2
        return min(
            self._minimum(2 * node, low, middle, start, last),
            self._minimum(2 * node + 1, middle + 1, high, start, last),
        )

    def last_below(self, bound: int) -> int:
        """The last position whose value is below ``bound``; -1 when none is."""
        if not self._n or self._min[1] >= bound:
            return -1
        node, low, high = 1, 0, self._n - 1
        while low < high:
            self._push(node)
            middle = (low + high) // 2
            if self._min[2 * node + 1] < bound:
                node, low = 2 * node + 1, middle + 1
            else:
                node, high = 2 * node, middle
        return low
