"""The outbox as operators see it (R15): each notification with its deliveries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from headstart.store.tables import DeliveryRow, OutboxRow
from headstart.store.uow import UnitOfWork


def list_notifications(
    uow: UnitOfWork, *, kind: str | None = None, after_id: int = 0, limit: int = 100
) -> dict[str, Any]:
    with uow:
        query = select(OutboxRow).where(OutboxRow.id > after_id).order_by(OutboxRow.id)
        if kind:
            query = query.where(OutboxRow.kind == kind)
        rows = uow.session.scalars(query.limit(limit)).all()
        deliveries = _deliveries_of(uow, [row.id for row in rows])
        return {
            "notifications": [
                {
                    "id": row.id,
                    "kind": row.kind,
                    "recipient": row.recipient,
                    "subject": row.subject,
                    "body": row.body,
                    "payload": row.payload,
                    "state": row.state,
                    "attempts": row.attempts,
                    "last_error": row.last_error,
                    "created_at": row.created_at.isoformat(),
                    "sent_at": row.sent_at.isoformat() if row.sent_at else None,
                    "deliveries": deliveries.get(row.id, []),
                }
                for row in rows
            ],
            "next_after_id": rows[-1].id if rows else after_id,
        }


def _deliveries_of(uow: UnitOfWork, outbox_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every channel each notification went out on, in one query for the page."""
    found: dict[int, list[dict[str, Any]]] = {}
    if not outbox_ids:
        return found
    query = (
        select(DeliveryRow)
        .where(DeliveryRow.outbox_id.in_(outbox_ids))
        .order_by(DeliveryRow.outbox_id, DeliveryRow.id)
    )
    for row in uow.session.scalars(query):
        found.setdefault(row.outbox_id, []).append(
            {
                "channel": row.channel,
                "target": row.target,
                "state": row.state,
                "attempts": row.attempts,
                "last_error": row.last_error,
                "next_attempt_at": row.next_attempt_at.isoformat()
                if row.state == "pending"
                else None,
                "transport": row.transport,
                "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
            }
        )
    return found
