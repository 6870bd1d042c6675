"""R15: notifications are written in the same transaction as the change they report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from headstart.domain.notifications import Notification
from headstart.store.tables import metadata


def enqueue(session: Session, notification: Notification, now: datetime) -> None:
    """Record a notification once: a repeated ``dedupe_key`` is a no-op.

    The session's pending changes are flushed first (what the lookup's autoflush did),
    then one plain insert that skips a recorded key: no lookup, no ORM bookkeeping
    (every order placed writes one, for its offer's change).
    """
    session.flush()
    session.execute(_INSERT_ONCE[session.get_bind().dialect.name], _values(notification, now))


class OutboxBuffer:
    """Notifications of one use case, written together by ``write``: one insert of all
    of them instead of a statement and a flush each.

    The rows are the ones ``enqueue`` would have written, in the same order: a key
    already in the outbox, or repeated in the buffer, is recorded once.
    """

    def __init__(self) -> None:
        self._pending: list[Notification] = []

    def add(self, notification: Notification) -> None:
        self._pending.append(notification)

    def write(self, session: Session, now: datetime) -> None:
        pending, self._pending = self._pending, []
        seen: set[str] = set()
        rows = []
        for notification in pending:
            if notification.dedupe_key not in seen:
                seen.add(notification.dedupe_key)
                rows.append(_values(notification, now))
        if rows:  # a delay can notify tens of thousands of buyers
            session.flush()
            # One executemany (psycopg pipelines it): SQLAlchemy's multi-row VALUES was
            # no faster on SQLite and slower on PostgreSQL, whose driver parses each
            # long statement anew.
            session.execute(_INSERT_ONCE[session.get_bind().dialect.name], rows)


_OUTBOX = metadata.tables["outbox"]
_INSERT_ONCE: dict[str, Insert] = {
    "postgresql": postgresql.insert(_OUTBOX).on_conflict_do_nothing(index_elements=["dedupe_key"]),
    "sqlite": sqlite.insert(_OUTBOX).on_conflict_do_nothing(index_elements=["dedupe_key"]),
}


def _values(notification: Notification, now: datetime) -> dict[str, Any]:
    return {
        "kind": notification.kind,
        "recipient": notification.recipient,
        "subject": notification.subject,
        "body": notification.body,
        "payload": dict(notification.payload),
        "dedupe_key": notification.dedupe_key,
        "state": "pending",
        "attempts": 0,
        "created_at": now,
    }
