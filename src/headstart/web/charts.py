"""Chart geometry for server-drawn inline SVG: no chart library, no script.

Each builder returns plain numbers (pixels in the SVG's own viewBox) and texts;
the templates draw them, each chart with a title, a description and a data table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from headstart.web.rendering import day_text, instant_text

WIDTH = 760
LEFT = 150  # room for row labels
RIGHT = 20
ROW = 30
TOP = 34  # room for the axis labels
TICK_STEPS = (1, 2, 7, 14, 28, 56)  # days between ticks


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Band:
    label: str
    y: float
    x50: float
    x90: float
    x97: float
    promised_x: float | None
    summary: str


@dataclass(frozen=True)
class BandChart:
    width: int
    height: int
    left: int
    right_edge: float
    rows: list[Band]
    ticks: list[Tick]
    now_x: float
    horizon_x: float


def _local_midnight(moment: datetime, zone: ZoneInfo, *, after: bool = False) -> datetime:
    local = moment.astimezone(zone)
    day = local.date() + timedelta(days=1 if after and local.time() != time(0) else 0)
    return datetime.combine(day, time(0), tzinfo=zone)


def _promised_end(shipment: dict[str, Any], fc_zones: dict[str, str]) -> datetime | None:
    """The end of the promised in-stock date, a date in the FC's own time zone (R7)."""
    promised = shipment["estimate"].get("promised_in_stock_date")
    fc_zone = fc_zones.get(shipment["destination_fc"])
    if not promised or not fc_zone:
        return None
    next_day = date.fromisoformat(promised) + timedelta(days=1)
    return datetime.combine(next_day, time(0), tzinfo=ZoneInfo(fc_zone))


def eta_bands(
    shipments: list[dict[str, Any]],
    *,
    now: datetime,
    horizon_days: int,
    zone: str,
    fc_zones: dict[str, str],
) -> BandChart | None:
    """p50 to p97 of each shipment's in-stock time, with p90, the promised date, now and H."""
    rows = [s for s in shipments if s.get("estimate")]
    if not rows:
        return None
    viewer_zone = ZoneInfo(zone)
    p50s = [datetime.fromisoformat(s["estimate"]["p50"]) for s in rows]
    p97s = [datetime.fromisoformat(s["estimate"]["p97"]) for s in rows]
    promised = {s["shipment_id"]: _promised_end(s, fc_zones) for s in rows}
    horizon = now + timedelta(days=horizon_days)
    latest = max(horizon, *p97s, *(moment for moment in promised.values() if moment))
    start = _local_midnight(min(now, *p50s), viewer_zone)
    end = _local_midnight(latest, viewer_zone, after=True)
    span = (end - start).total_seconds()
    plot = WIDTH - LEFT - RIGHT

    def x(moment: datetime) -> float:
        return round(LEFT + (moment - start).total_seconds() / span * plot, 1)

    days = max(1, math.ceil(span / 86400))
    step = next((s for s in TICK_STEPS if days / s <= 8), TICK_STEPS[-1])
    ticks = []
    for offset in range(0, days + 1, step):
        tick_day = start.astimezone(viewer_zone).date() + timedelta(days=offset)
        moment = datetime.combine(tick_day, time(0), tzinfo=viewer_zone)
        ticks.append(Tick(x(moment), f"{tick_day:%b} {tick_day.day}"))
    bands = []
    for index, shipment in enumerate(rows):
        estimate = shipment["estimate"]
        p50, p90, p97 = (datetime.fromisoformat(estimate[k]) for k in ("p50", "p90", "p97"))
        promised_end = promised[shipment["shipment_id"]]
        bands.append(
            Band(
                label=shipment["shipment_id"],
                y=TOP + index * ROW,
                x50=x(p50),
                x90=x(p90),
                x97=x(p97),
                promised_x=x(promised_end) if promised_end else None,
                summary=(
                    f"{shipment['shipment_id']}: in stock most likely by "
                    f"{instant_text(p50, zone)}, "
                    f"97% sure by {instant_text(p97, zone)}; promised in-stock date "
                    f"{day_text(estimate.get('promised_in_stock_date'))} at "
                    f"{shipment['destination_fc']}"
                ),
            )
        )
    return BandChart(
        width=WIDTH,
        height=TOP + len(bands) * ROW + 10,
        left=LEFT,
        right_edge=WIDTH - RIGHT,
        rows=bands,
        ticks=ticks,
        now_x=x(now),
        horizon_x=x(horizon),
    )


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


@dataclass(frozen=True)
class BarChart:
    title: str
    width: int
    height: int
    left: int
    baseline_y: float
    bars: list[Bar]
    y_ticks: list[Tick]  # x holds the tick's y here
    target_y: float | None
    target_label: str


CHART_HEIGHT = 180
PLOT_TOP = 16
PLOT_BOTTOM = 140


def _bars(
    title: str,
    items: list[tuple[str, float, str]],
    *,
    low: float,
    high: float,
    y_ticks: list[tuple[float, str]],
    target: tuple[float, str] | None = None,
    width: int = 360,
) -> BarChart:
    left = 48
    plot = width - left - 10

    def y(value: float) -> float:
        share = (value - low) / (high - low) if high > low else 0
        return round(PLOT_BOTTOM - share * (PLOT_BOTTOM - PLOT_TOP), 1)

    slot = plot / max(1, len(items))
    zero = y(max(low, min(0.0, high)))
    bars = []
    for index, (label, value, text) in enumerate(items):
        top = y(value)
        bars.append(
            Bar(
                x=round(left + index * slot + slot * 0.15, 1),
                y=min(top, zero),
                width=round(slot * 0.7, 1),
                height=max(1.0, abs(zero - top)),
                label=label,
                value=text,
            )
        )
    return BarChart(
        title=title,
        width=width,
        height=CHART_HEIGHT,
        left=left,
        baseline_y=zero,
        bars=bars,
        y_ticks=[Tick(y(value), text) for value, text in y_ticks],
        target_y=y(target[0]) if target else None,
        target_label=target[1] if target else "",
    )


def on_time_by_week(mode: str, weeks: list[dict[str, Any]], target: float) -> BarChart:
    """One mode's share of judged orders in stock by their promise, week by week."""
    items = [
        (
            f"{date.fromisoformat(w['week']):%b} {date.fromisoformat(w['week']).day}",
            float(w["on_time_rate"] or 0.0),
            f"{w['on_time']}/{w['judged']}",
        )
        for w in weeks
    ]
    ticks = [(v, f"{v:.0%}") for v in (0.0, 0.5, 1.0)]
    return _bars(
        f"On time to promise, {mode}, by week",
        items,
        low=0.0,
        high=1.0,
        y_ticks=ticks,
        target=(target, f"target {target:.0%}"),
    )


def padding_by_mode(modes: list[dict[str, Any]]) -> BarChart:
    """Mean days between the promised and the actual in-stock date (negative: late)."""
    values = [m["mean_padding_days"] for m in modes if m["mean_padding_days"] is not None]
    items = [
        (m["mode"], float(m["mean_padding_days"]), f"{m['mean_padding_days']} d")
        for m in modes
        if m["mean_padding_days"] is not None
    ]
    high = max([1.0, *values])
    low = min([0.0, *values])
    ticks = [(low, f"{low:g} d"), (0.0, "0 d"), (high, f"{high:g} d")]
    return _bars(
        "Mean padding by mode (days early)",
        items,
        low=low,
        high=high,
        y_ticks=list(dict.fromkeys(ticks)),
    )
