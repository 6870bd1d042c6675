"""JSON-ready views of stored objects, shared by the API, the CLI and the demo."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from headstart.store.tables import OrderRevisionRow, OrderRow

PROMISE_FIELDS = (
    "promised_in_stock_date",
    "promised_ship_date",
    "promised_delivery_date",
    "confidence",
)


def promise_view(promise: dict[str, Any] | None) -> dict[str, Any] | None:
    if promise is None:
        return None
    return {name: promise[name] for name in PROMISE_FIELDS}


def order_view(
    session: Session, order: OrderRow, *, revisions: Sequence[OrderRevisionRow] | None = None
) -> dict[str, Any]:
    """``revisions``: the order's, when the caller knows them (a new order has none)."""
    if revisions is None:
        revisions = session.scalars(
            select(OrderRevisionRow)
            .where(OrderRevisionRow.order_id == order.id)
            .order_by(OrderRevisionRow.id)
        ).all()
    return {
        "order_id": order.id,
        "sku": order.sku,
        "quantity": order.quantity,
        "region": order.region,
        "buyer_ref": order.buyer_ref,
        "status": order.status,
        "source": order.source,
        "fc": order.fc,
        "placed_at": order.placed_at.isoformat(),
        "promise": promise_view(order.promise) if order.status != "cancelled" else None,
        "first_promise": promise_view(order.first_promise),
        "consent_required_by": order.consent_due_at.isoformat() if order.consent_due_at else None,
        "cancel_reason": order.cancel_reason,
        "revisions": [
            {
                "at": rev.at.isoformat(),
                "reason": rev.reason,
                "old": promise_view(rev.old),
                "new": promise_view(rev.new),
            }
            for rev in revisions
        ],
    }
