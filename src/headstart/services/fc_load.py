"""Each FC's receiving load now: what the milestone model scales receiving time by (section 4)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from headstart.domain.estimate.inbound import PAST_DAYS, daily_arrivals, typical_transit_hours
from headstart.domain.estimate.instants import to_utc
from headstart.store.tables import ShipmentRow

RECENT = timedelta(days=7)  # the window the model's fc_deliveries_7d counts
# Shipped and not yet at the FC: what will load its receiving in the days ahead.
_EN_ROUTE = ("shipped", "in_transit")


@dataclass(frozen=True)
class FcLoad:
    """One FC's load now: (backlog, deliveries in the last 7 days) and its deliveries per
    day around now (``ShipmentProgress.fc_arrivals``; None when not counted)."""

    backlog: int = 0
    deliveries_7d: int = 0
    arrivals: tuple[int, ...] | None = None


FcLoads = dict[str, FcLoad]


def fc_loads(session: Session, now: datetime) -> FcLoads:
    """Per FC: shipments delivered there and not yet in stock, deliveries in the last 7
    days, and its deliveries per day from two weeks back to two weeks ahead.

    The same figures the model was fitted on (``FcLoadIndex.load_at`` and
    ``arrivals_at``). An FC with nothing delivered or on the way is absent: (0, 0).
    """
    since = now - RECENT
    backlog = func.sum(
        case(
            (
                (ShipmentRow.in_stock_at.is_(None) | (ShipmentRow.in_stock_at > now))
                & ShipmentRow.status.not_in(("closed", "cancelled")),
                1,
            ),
            else_=0,
        )
    )
    recent = func.sum(case(((ShipmentRow.delivered_at > since), 1), else_=0))
    rows = session.execute(
        select(ShipmentRow.destination_fc, backlog, recent)
        .where(
            ShipmentRow.delivered_at.is_not(None),
            ShipmentRow.delivered_at <= now,
            or_(ShipmentRow.in_stock_at.is_(None), ShipmentRow.delivered_at > since),
        )
        .group_by(ShipmentRow.destination_fc)
    ).all()
    counts = {fc: (int(b or 0), int(r or 0)) for fc, b, r in rows}
    arrivals = fc_arrivals(session, now)
    return {
        fc: FcLoad(*counts.get(fc, (0, 0)), arrivals.get(fc))
        for fc in sorted(set(counts) | set(arrivals))
    }


def fc_arrivals(session: Session, now: datetime) -> dict[str, tuple[int, ...]]:
    """Per FC, ``inbound.daily_arrivals``: the deliveries of the last 14 days by day, then the
    shipments on their way by the day they are expected (the carrier's latest ETA, else
    the mode's published median transit from shipping)."""
    now = to_utc("now", now)
    delivered: dict[str, list[float]] = defaultdict(list)
    for fc, at in session.execute(
        select(ShipmentRow.destination_fc, ShipmentRow.delivered_at).where(
            ShipmentRow.delivered_at > now - timedelta(days=PAST_DAYS),
            ShipmentRow.delivered_at <= now,
        )
    ).all():
        if at is not None:
            delivered[fc].append(to_utc("delivered_at", at).timestamp())
    expected: dict[str, list[float]] = defaultdict(list)
    for fc, mode, shipped_at, eta in session.execute(
        select(
            ShipmentRow.destination_fc,
            ShipmentRow.mode,
            ShipmentRow.shipped_at,
            ShipmentRow.carrier_eta,
        ).where(
            ShipmentRow.status.in_(_EN_ROUTE),
            ShipmentRow.shipped_at.is_not(None),
            ShipmentRow.shipped_at <= now,
            ShipmentRow.delivered_at.is_(None),
        )
    ).all():
        if eta is not None:
            expected[fc].append(to_utc("carrier_eta", eta).timestamp())
        elif shipped_at is not None:
            start = to_utc("shipped_at", shipped_at).timestamp()
            expected[fc].append(start + typical_transit_hours(mode) * 3600.0)
    t = now.timestamp()
    return {
        fc: daily_arrivals(
            t, np.sort(np.asarray(delivered.get(fc, []))), np.asarray(expected.get(fc, []))
        )
        for fc in sorted(set(delivered) | set(expected))
    }
