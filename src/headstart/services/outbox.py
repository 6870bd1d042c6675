"""R15: notifications are written in the same transaction as the change they report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Insert, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from headstart.domain.notifications import Notification
from headstart.store.tables import OutboxRow, metadata


def enqueue(session: Session, notification: Notification, now: datetime) -> None:
    """Record a notification once: a repeated ``dedupe_key`` is a no-op.

    The session's pending changes are flushed first (what the lookup's autoflush did),
    then one plain insert that skips a recorded key: no lookup, no ORM bookkeeping
    (every order placed writes one, for its offer's change).
    """
    session.flush()
    session.execute(_INSERT_ONCE[session.get_bind().dialect.name], _values(notification, now))


class OutboxBuffer:
    """Notifications of one use case, written together by ``write``: one query for the
    ``dedupe_key``s already recorded and one insert, instead of a query and a flush each.

    The rows are the ones ``enqueue`` would have written, in the same order: a key
    already in the outbox, or repeated in the buffer, is recorded once.
    """

    def __init__(self) -> None:
        self._pending: list[Notification] = []

    def add(self, notification: Notification) -> None:
        self._pending.append(notification)

    def write(self, session: Session, now: datetime) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        keys = list({notification.dedupe_key for notification in pending})
        seen: set[str] = set()
        for start in range(0, len(keys), _IN_CHUNK):
            seen.update(
                session.scalars(
                    select(OutboxRow.dedupe_key).where(
                        OutboxRow.dedupe_key.in_(keys[start : start + _IN_CHUNK])
                    )
                )
            )
        rows = []
        for notification in pending:
            if notification.dedupe_key in seen:
                continue
            seen.add(notification.dedupe_key)
            rows.append(_values(notification, now))
        if rows:  # one insert of plain rows: a delay can notify tens of thousands of buyers
            session.execute(insert(_OUTBOX), rows)
        session.flush()


_OUTBOX = metadata.tables["outbox"]
_INSERT_ONCE: dict[str, Insert] = {
    "postgresql": postgresql.insert(_OUTBOX).on_conflict_do_nothing(index_elements=["dedupe_key"]),
    "sqlite": sqlite.insert(_OUTBOX).on_conflict_do_nothing(index_elements=["dedupe_key"]),
}
_IN_CHUNK = 500  # keys per IN list (SQLite allows a few hundred thousand; stays readable)


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
