"""Head-start orders waiting for their units, as R6 and R9 read and move them.

Plain rows, read and written without the ORM's bookkeeping: a SKU may have tens of
thousands of them, every one of which a delay re-promises in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from headstart.store.plain_sql import plain_rows
from headstart.store.tables import OrderRow, metadata

WAITING = "promised"  # a head-start order waiting for its units


@dataclass(slots=True)
class WaitingRow:
    """One waiting order's columns that deciding and re-promising it read."""

    seq: int | None  # None: placed in this transaction, not written yet
    id: str
    sku: str
    quantity: int
    region: str
    fc: str
    buyer_ref: str
    promise: dict[str, Any]
    first_promise: dict[str, Any]
    promised_in_stock_date: date
    promised_ship_date: date
    slips: int
    consent_due_at: datetime | None
    status: str

    @classmethod
    def of(cls, order: OrderRow) -> WaitingRow:
        """The row of an order placed in this transaction."""
        return cls(*(getattr(order, name) for name in _NAMES))


_NAMES = tuple(field.name for field in fields(WaitingRow))
_ORDERS = metadata.tables["orders"]
_COLUMNS = tuple(_ORDERS.c[name] for name in _NAMES)
# Built once: placing an order runs it (SQLAlchemy reuses the compiled form).
_OF_SKU = (
    select(*_COLUMNS)
    .where(_ORDERS.c.sku == bindparam("sku"), _ORDERS.c.status == WAITING)
    .order_by(_ORDERS.c.seq)
)
_OF_SKUS = (
    select(*_COLUMNS)
    .where(_ORDERS.c.sku.in_(bindparam("skus", expanding=True)), _ORDERS.c.status == WAITING)
    .order_by(_ORDERS.c.seq)
)


def waiting_of(session: Session, sku: str) -> list[WaitingRow]:
    """The SKU's waiting orders in placement order (after the session's pending changes)."""
    return [WaitingRow(*row) for row in plain_rows(session, _OF_SKU, {"sku": sku})]


def waiting_of_skus(session: Session, skus: Sequence[str]) -> dict[str, list[WaitingRow]]:
    """``waiting_of`` for many SKUs in one query."""
    by_sku: dict[str, list[WaitingRow]] = {}
    for row in plain_rows(session, _OF_SKUS, {"skus": list(skus)}):
        waiting = WaitingRow(*row)
        by_sku.setdefault(waiting.sku, []).append(waiting)
    return by_sku


REVISED = ("promise", "fc", "promised_in_stock_date", "promised_ship_date", "slips")
CANCELLED = ("status", "cancel_reason", "cancelled_at")
_REVISE = (
    update(_ORDERS)
    .where(_ORDERS.c.seq == bindparam("order_seq"))
    .values({name: bindparam(name) for name in (*REVISED, "consent_due_at")})
)
_CANCEL = (
    update(_ORDERS)
    .where(_ORDERS.c.seq == bindparam("order_seq"))
    .values({**{name: bindparam(name) for name in CANCELLED}, "consent_due_at": None})
)


def store_revised(session: Session, revised: Iterable[WaitingRow]) -> None:
    """Write the new promise of every revised row (R9): one UPDATE by primary key."""
    rows = [
        {"order_seq": row.seq, **{name: getattr(row, name) for name in REVISED}}
        | {"consent_due_at": row.consent_due_at}
        for row in revised
    ]
    if rows:
        session.execute(_REVISE, rows)


def store_cancelled(
    session: Session, cancelled: Iterable[WaitingRow], reasons: dict[str, str], now: datetime
) -> None:
    """Cancel every row (R10), ``reasons`` by order id: one UPDATE by primary key."""
    rows = [
        {
            "order_seq": row.seq,
            "status": "cancelled",
            "cancel_reason": reasons[row.id],
            "cancelled_at": now,
        }
        for row in cancelled
    ]
    if rows:
        session.execute(_CANCEL, rows)
