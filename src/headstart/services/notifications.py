"""The outbox as operators see it (R15)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from headstart.store.tables import OutboxRow
from headstart.store.uow import UnitOfWork


def list_notifications(
    uow: UnitOfWork, *, kind: str | None = None, after_id: int = 0, limit: int = 100
) -> dict[str, Any]:
    with uow:
        query = select(OutboxRow).where(OutboxRow.id > after_id).order_by(OutboxRow.id)
        if kind:
            query = query.where(OutboxRow.kind == kind)
        rows = uow.session.scalars(query.limit(limit)).all()
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
                }
                for row in rows
            ],
            "next_after_id": rows[-1].id if rows else after_id,
        }
