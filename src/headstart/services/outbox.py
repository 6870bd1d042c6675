"""R15: notifications are written in the same transaction as the change they report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from headstart.domain.notifications import Notification
from headstart.store.tables import OutboxRow


def enqueue(session: Session, notification: Notification, now: datetime) -> None:
    """Record a notification once: a repeated ``dedupe_key`` is a no-op."""
    exists = session.scalar(
        select(OutboxRow.id).where(OutboxRow.dedupe_key == notification.dedupe_key)
    )
    if exists is not None:
        return
    session.add(
        OutboxRow(
            kind=notification.kind,
            recipient=notification.recipient,
            subject=notification.subject,
            body=notification.body,
            payload=dict(notification.payload),
            dedupe_key=notification.dedupe_key,
            state="pending",
            attempts=0,
            created_at=now,
        )
    )
    session.flush()
