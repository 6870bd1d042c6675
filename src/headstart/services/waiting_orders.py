"""Head-start orders waiting for their units, as R6 and R9 read and move them.

Plain rows, read and written without the ORM's bookkeeping: a SKU may have tens of
thousands of them, every one of which a delay re-promises in one transaction. Their
promises travel as JSON text (``store/json_text.py``): a delay moves thousands of orders
onto a handful of distinct promises, so each distinct one is parsed and encoded once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Update, bindparam, select, update
from sqlalchemy.orm import Session

from headstart.domain.promise import Promise
from headstart.store.json_text import JsonCodec, json_param, json_text
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
    promise: Promise
    first_promise: Promise
    promised_in_stock_date: date
    promised_ship_date: date
    slips: int
    consent_due_at: datetime | None
    status: str

    @classmethod
    def placed(cls, order: OrderRow, promise: Promise) -> WaitingRow:
        """The row of an order placed in this transaction with ``promise``."""
        values: dict[str, Any] = {name: getattr(order, name) for name in _NAMES}
        return cls(**values | {"promise": promise, "first_promise": promise})


_NAMES = tuple(field.name for field in fields(WaitingRow))
_PROMISES = ("promise", "first_promise")
_ORDERS = metadata.tables["orders"]
_COLUMNS: tuple[ColumnElement[Any], ...] = tuple(
    json_text(_ORDERS.c[name]) if name in _PROMISES else _ORDERS.c[name] for name in _NAMES
)
_PROMISE_AT = tuple(_NAMES.index(name) for name in _PROMISES)
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
    promises = _PromiseReader()
    return [promises.row(row) for row in plain_rows(session, _OF_SKU, {"sku": sku})]


def waiting_of_skus(session: Session, skus: Sequence[str]) -> dict[str, list[WaitingRow]]:
    """``waiting_of`` for many SKUs in one query."""
    promises = _PromiseReader()
    by_sku: dict[str, list[WaitingRow]] = {}
    for row in plain_rows(session, _OF_SKUS, {"skus": list(skus)}):
        waiting = promises.row(row)
        by_sku.setdefault(waiting.sku, []).append(waiting)
    return by_sku


class _PromiseReader:
    """Rows with their promises parsed once per distinct text (they are frozen values,
    so orders promised alike share one)."""

    def __init__(self) -> None:
        self._parsed: dict[str, Promise] = {}

    def row(self, values: Sequence[Any]) -> WaitingRow:
        row = list(values)
        for at in _PROMISE_AT:
            text = row[at]
            promise = self._parsed.get(text)
            if promise is None:
                promise = self._parsed[text] = Promise.from_dict(json.loads(text))
            row[at] = promise
        return WaitingRow(*row)


REVISED = ("fc", "promised_in_stock_date", "promised_ship_date", "slips", "consent_due_at")
CANCELLED = ("status", "cancel_reason", "cancelled_at")
_REVISE_ALIKE: dict[str, Update] = {
    dialect: update(_ORDERS)
    .where(_ORDERS.c.id.in_(bindparam("ids", expanding=True)))
    .values({"promise": json_param("promise", dialect)})
    .values({name: bindparam(name) for name in REVISED})
    for dialect in ("sqlite", "postgresql")
}
_CANCEL = (
    update(_ORDERS)
    .where(_ORDERS.c.id == bindparam("order_id"))
    .values({**{name: bindparam(name) for name in CANCELLED}, "consent_due_at": None})
)
ALIKE_CHUNK = 500  # rows per IN list: a statement per few hundred rows, not one per row


def store_revised(session: Session, revised: Iterable[WaitingRow], codec: JsonCodec) -> None:
    """Write the new promise of every revised row (R9).

    A delay moves thousands of orders onto a handful of promises, so the rows given the
    same new values are written by one UPDATE per few hundred of them (by id: a row
    placed in this transaction has no ``seq`` yet).
    """
    alike: dict[tuple[Any, ...], list[WaitingRow]] = {}
    for row in revised:
        alike.setdefault((row.promise, row.slips, row.consent_due_at), []).append(row)
    statement = _REVISE_ALIKE[session.get_bind().dialect.name]
    for rows in alike.values():
        values = {name: getattr(rows[0], name) for name in REVISED}
        values["promise"] = codec.promise(rows[0].promise)
        for start in range(0, len(rows), ALIKE_CHUNK):
            ids = [row.id for row in rows[start : start + ALIKE_CHUNK]]
            session.execute(statement, values | {"ids": ids})


def store_cancelled(
    session: Session, cancelled: Iterable[WaitingRow], reasons: dict[str, str], now: datetime
) -> None:
    """Cancel every row (R10), ``reasons`` by order id: one UPDATE by id, as for a
    revision (a row placed in this transaction has no ``seq`` yet)."""
    rows = [
        {
            "order_id": row.id,
            "status": "cancelled",
            "cancel_reason": reasons[row.id],
            "cancelled_at": now,
        }
        for row in cancelled
    ]
    if rows:
        session.execute(_CANCEL, rows)
