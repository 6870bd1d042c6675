"""Pool keys: which groups a query draws from, from the most specific to the most general.

Transit keys carry the mode and the stage, then (method A, the carrier's ETA)
how far ahead the ETA lies and whether it has slipped, or (method B) nothing
more; lanes, carriers and seasons refine them. Receiving keys carry the at-FC
milestone, mode, FC and season of arrival. Seasons follow the published peak
(mid-October through December, ``prior.is_peak``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from headstart.domain.estimate.pools import Array
from headstart.domain.estimate.prior import FIGURES, is_peak


def season(at: datetime) -> str:
    return "peak" if is_peak(at) else "off"


def horizon_bucket(hours: float, edges_days: tuple[float, ...]) -> str:
    """The carrier ETA's distance ahead, bucketed: ``overdue``, ``h0``, ``h1``, ``h3``..."""
    if hours < 0.0:
        return "overdue"
    days = hours / 24.0
    label = "h0"
    for edge in edges_days:
        if days >= edge:
            label = f"h{edge:g}"
    return label


def transit_keys(
    method: str, mode: str, stage: str, lane: str, carrier: str, peak: str, hb: str, slip: str
) -> list[tuple[str, str]]:
    """(pool key, level) from specific to general; level names the shrinkage constant."""
    if method == "A":
        base = f"A|{mode}|{stage}|{hb}"
        return [
            (f"{base}|{slip}|L|{lane}", "lane"),
            (f"{base}|L|{lane}", "lane"),
            (f"{base}|{slip}|C|{carrier}", "lane"),
            (f"{base}|{slip}|S|{peak}", "group"),
            (f"{base}|{slip}", "group"),
            (base, "group"),
        ]
    base = f"B|{mode}|{stage}"
    return [(f"{base}|L|{lane}", "lane"), (f"{base}|S|{peak}", "group"), (base, "group")]


def receiving_keys(milestone: str, mode: str, fc: str, peak: str) -> list[tuple[str, str]]:
    """Receiving pools, specific to general. In peak, the observed peak pools come first,
    then ``peak~``: the off-peak pools stretched by the published peak/off-peak ratio,
    so a history without a peak season yet does not promise off-peak receiving in one."""
    base = f"R|{milestone}"
    keys = [
        (f"{base}|{mode}|{fc}|{peak}", "lane"),
        (f"{base}|{mode}|{peak}", "group"),
        (f"{base}|{peak}", "group"),
    ]
    if peak == "peak":
        keys += [(key + "~", level) for key, level in keys]
    return keys


def _peak_bounds() -> Array:
    """[start of peak, next January 1) of every year 1990..2100, flattened and ascending."""
    month, day = int(FIGURES["peak.start_month"].value), int(FIGURES["peak.start_day"].value)
    bounds = []
    for year in range(1990, 2101):
        bounds.append(datetime(year, month, day, tzinfo=UTC).timestamp())
        bounds.append(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
    return np.asarray(bounds)


PEAK_BOUNDS = _peak_bounds()  # [peak start, next Jan 1) per year, ascending


def peak_mask(epoch_seconds: Array) -> Array:
    """``is_peak`` for many instants (epoch seconds) at once."""
    inside: Array = np.searchsorted(PEAK_BOUNDS, epoch_seconds, side="right") % 2 == 1
    return inside
