"""Each FC's receiving load now: what the milestone model scales receiving time by (section 4)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVarTuple

import numpy as np
from sqlalchemy import Result, Select, bindparam, func, select
from sqlalchemy.orm import Session

from headstart.domain.estimate.inbound import PAST_DAYS, daily_arrivals, typical_transit_hours
from headstart.domain.estimate.instants import to_utc
from headstart.domain.supply import SHIPMENT_STATUSES
from headstart.store.tables import ShipmentRow

RECENT = timedelta(days=7)  # the window the model's fc_deliveries_7d counts
# Shipped and not yet at the FC: what will load its receiving in the days ahead.
_EN_ROUTE = ("shipped", "in_transit")
# Every status but closed and cancelled, listed so that an index on status serves the
# query (a NOT IN would read every shipment ever made).
OPEN_STATUSES = tuple(sorted(SHIPMENT_STATUSES - {"closed", "cancelled"}))


@dataclass(frozen=True)
class FcLoad:
    """One FC's load now: (backlog, deliveries in the last 7 days) and its deliveries per
    day around now (``ShipmentProgress.fc_arrivals``; None when not counted)."""

    backlog: int = 0
    deliveries_7d: int = 0
    arrivals: tuple[int, ...] | None = None


FcLoads = dict[str, FcLoad]
_Row = TypeVarTuple("_Row")

# Three reads, each from a covering index (``ix_shipments_fc_load``,
# ``ix_shipments_delivered_at_fc``), so a call costs what is open or recent, not what the
# FC ever received.
# Delivered by ``now`` and not yet in stock; delivered in (``since``, ``now``].
_IN_BACKLOG = (
    ShipmentRow.status.in_(OPEN_STATUSES),
    ShipmentRow.delivered_at <= bindparam("now"),
    ShipmentRow.in_stock_at.is_(None) | (ShipmentRow.in_stock_at > bindparam("now")),
)
_RECENT = (
    ShipmentRow.delivered_at > bindparam("since"),
    ShipmentRow.delivered_at <= bindparam("now"),
)
_BACKLOG = (
    select(ShipmentRow.destination_fc, func.count())
    .where(*_IN_BACKLOG)
    .group_by(ShipmentRow.destination_fc)
)
_DELIVERED = select(ShipmentRow.destination_fc, ShipmentRow.delivered_at).where(*_RECENT)
_INBOUND = select(
    ShipmentRow.destination_fc, ShipmentRow.mode, ShipmentRow.shipped_at, ShipmentRow.carrier_eta
).where(
    ShipmentRow.status.in_(_EN_ROUTE),
    ShipmentRow.shipped_at <= bindparam("now"),
    ShipmentRow.delivered_at.is_(None),
)


def fc_loads(session: Session, now: datetime, fc: str | None = None) -> FcLoads:
    """Per FC (only ``fc``, if given): shipments delivered there and not yet in stock,
    deliveries in the last 7 days, and its deliveries per day from two weeks back to two
    weeks ahead.

    The same figures the model was fitted on (``FcLoadIndex.load_at`` and
    ``arrivals_at``). An FC with nothing delivered or on the way is absent: (0, 0).
    """
    now = to_utc("now", now)
    t = now.timestamp()
    # Core rows, not ORM ones (a few thousand a call); the column type makes them aware
    # UTC. The session's changes first, as the ORM's autoflush would (a shipment shipped
    # in this transaction is on its way).
    session.flush()
    connection = session.connection()

    def rows(query: Select[*_Row], **values: object) -> Result[*_Row]:
        if fc is not None:
            query = query.where(ShipmentRow.destination_fc == fc)
        return connection.execute(query, {"now": now, **values})

    backlog = {code: int(n) for code, n in rows(_BACKLOG)}
    delivered: dict[str, list[float]] = defaultdict(list)
    for code, at in rows(_DELIVERED, since=now - timedelta(days=PAST_DAYS)):
        assert at is not None  # delivered_at > since
        delivered[code].append(at.timestamp())
    expected: dict[str, list[float]] = defaultdict(list)
    for code, mode, shipped_at, eta in rows(_INBOUND):
        if eta is not None:
            expected[code].append(eta.timestamp())
        else:
            assert shipped_at is not None  # shipped_at <= now
            expected[code].append(shipped_at.timestamp() + typical_transit_hours(mode) * 3600.0)
    recent_since = t - RECENT.total_seconds()
    loads = {}
    for code in sorted(set(backlog) | set(delivered) | set(expected)):
        times = np.sort(np.asarray(delivered.get(code, []), dtype=np.float64))
        recent = int(times.size - np.searchsorted(times, recent_since, side="right"))
        arrivals = (
            daily_arrivals(t, times, np.asarray(expected.get(code, []), dtype=np.float64))
            if code in delivered or code in expected
            else None
        )
        loads[code] = FcLoad(backlog.get(code, 0), recent, arrivals)
    return loads


# One FC's load at one instant (``load_at``): both counts in one statement, each from the
# same covering indexes.
_AT_FC = ShipmentRow.destination_fc == bindparam("fc")
_LOAD_OF = select(
    select(func.count()).where(*_IN_BACKLOG, _AT_FC).scalar_subquery(),
    select(func.count()).where(*_RECENT, _AT_FC).scalar_subquery(),
)


def load_at(session: Session, fc: str, at: datetime) -> tuple[int, int]:
    """``fc``'s (backlog, deliveries in the 7 days before) as of ``at`` (``FcLoadIndex.load_at``):
    open shipments delivered there by then and not yet in stock, and deliveries made in the
    week before. Read when a delivery is recorded, so ``at`` is close to now and the few
    shipments closed since are no loss to the backlog."""
    at = to_utc("at", at)
    values = {"now": at, "since": at - RECENT, "fc": fc}
    backlog, recent = session.connection().execute(_LOAD_OF, values).one()
    return int(backlog), int(recent)
