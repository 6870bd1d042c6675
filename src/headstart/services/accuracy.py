"""Promise accuracy (issue 5): were head-start orders in stock by their first promise?

An order is judged as R4 judges it (``sku_state.recent_on_time``): once its units
were allocated, or once it was cancelled for lack of supply (late by definition).
Each judged order is attributed to the transport mode of the lot that set its date
(the latest counted lot at its FC due by the promised in-stock date, as recorded
with the promise, R17) and to the ISO week of its promised in-stock date.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from headstart.services.policy import load_policy
from headstart.services.sku_state import HEAD_START_ORDERS, LATE_CANCELS, load_fcs
from headstart.store.tables import OrderRow, ShipmentRow
from headstart.store.uow import UnitOfWork

JUDGED_LIMIT = 5000  # the newest judged orders a page summarizes
UNKNOWN_MODE = "unknown"


@dataclass(frozen=True)
class JudgedOrder:
    order_id: str
    seller_id: str
    mode: str
    week: date  # Monday of the ISO week of the first promised in-stock date
    on_time: bool
    padding_days: int | None  # promised minus actual in-stock date; None when cancelled


def _backing_shipment(order: OrderRow, promised: date) -> str | None:
    """The lot whose date the promise rests on, from the inputs stored with it (R17)."""
    fcs = order.decision.get("fcs") if isinstance(order.decision, dict) else None
    at_fc = fcs.get(order.fc) if isinstance(fcs, dict) else None
    lots = at_fc.get("lots", []) if isinstance(at_fc, dict) else []
    due = [
        lot
        for lot in lots
        if isinstance(lot, dict)
        and lot.get("counted")
        and date.fromisoformat(str(lot["in_stock_date"])) <= promised
    ]
    if not due:
        return None
    latest = max(due, key=lambda lot: str(lot["in_stock_date"]))
    return str(latest["shipment_id"])


def judged_orders(
    session: Session, *, seller_id: str | None = None, limit: int = JUDGED_LIMIT
) -> list[JudgedOrder]:
    """Judged head-start orders, oldest first (of the newest ``limit``)."""
    query = (
        select(OrderRow)
        .where(HEAD_START_ORDERS)
        .where(OrderRow.allocated_at.is_not(None) | OrderRow.cancel_reason.in_(LATE_CANCELS))
        .order_by(OrderRow.seq.desc())
        .limit(limit)
    )
    if seller_id is not None:
        query = query.where(OrderRow.seller_id == seller_id)
    rows = list(reversed(session.scalars(query).all()))
    fcs = load_fcs(session)
    promised = {
        order.id: date.fromisoformat(str(order.first_promise["promised_in_stock_date"]))
        for order in rows
    }
    backing = {order.id: _backing_shipment(order, promised[order.id]) for order in rows}
    shipment_ids = {shipment for shipment in backing.values() if shipment}
    modes = dict(
        session.execute(
            select(ShipmentRow.id, ShipmentRow.mode).where(ShipmentRow.id.in_(shipment_ids))
        ).all()
    )
    judged: list[JudgedOrder] = []
    for order in rows:
        day = promised[order.id]
        padding: int | None = None
        on_time = False
        if order.allocated_at is not None and order.fc in fcs:
            actual = fcs[order.fc].local_date(order.allocated_at)
            padding = (day - actual).days
            on_time = padding >= 0
        shipment = backing[order.id]
        judged.append(
            JudgedOrder(
                order_id=order.id,
                seller_id=order.seller_id,
                mode=modes.get(shipment, UNKNOWN_MODE) if shipment else UNKNOWN_MODE,
                week=day - timedelta(days=day.weekday()),
                on_time=on_time,
                padding_days=padding,
            )
        )
    return judged


def summarize(judged: list[JudgedOrder]) -> dict[str, Any]:
    """Count, on-time count and rate, mean padding of a group of judged orders."""
    paddings = [j.padding_days for j in judged if j.padding_days is not None]
    on_time = sum(j.on_time for j in judged)
    return {
        "judged": len(judged),
        "on_time": on_time,
        "on_time_rate": round(on_time / len(judged), 4) if judged else None,
        "mean_padding_days": round(sum(paddings) / len(paddings), 2) if paddings else None,
    }


def promise_accuracy(uow: UnitOfWork) -> dict[str, Any]:
    """On-time-to-promise and padding by mode, and by mode and week."""
    with uow:
        judged = judged_orders(uow.session)
        target = load_policy(uow.session).q
    by_mode: dict[str, list[JudgedOrder]] = defaultdict(list)
    by_week: dict[tuple[str, date], list[JudgedOrder]] = defaultdict(list)
    for item in judged:
        by_mode[item.mode].append(item)
        by_week[(item.mode, item.week)].append(item)
    return {
        "target_on_time_rate": target,
        "overall": summarize(judged),
        "by_mode": [{"mode": mode, **summarize(items)} for mode, items in sorted(by_mode.items())],
        "by_mode_and_week": [
            {"mode": mode, "week": week.isoformat(), **summarize(items)}
            for (mode, week), items in sorted(by_week.items())
        ],
    }
