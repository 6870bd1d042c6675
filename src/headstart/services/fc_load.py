"""Each FC's receiving load now: what the milestone model scales receiving time by (section 4)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from headstart.store.tables import ShipmentRow

RECENT = timedelta(days=7)  # the window the model's fc_deliveries_7d counts
FcLoads = dict[str, tuple[int, int]]


def fc_loads(session: Session, now: datetime) -> FcLoads:
    """Per FC: (shipments delivered there and not yet in stock, deliveries in the last 7 days).

    The same figures the model was fitted on (``FcLoadIndex.load_at``), counted
    in one grouped query. An FC with no delivery in sight is absent: (0, 0).
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
    return {fc: (int(b or 0), int(r or 0)) for fc, b, r in rows}
