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
