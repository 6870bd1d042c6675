"""Tell every process which offers a committed transaction changed (PostgreSQL).

Offers are kept per process (``services/offer_cache.py``). Every transaction that
writes a row an offer is computed from sends ``NOTIFY headstart_offers`` inside the
transaction, so it is delivered exactly when the transaction commits and never when it
rolls back. The payload names the SKUs changed, or is ``*``: everything (a policy, an FC,
a seller, the sandbox clock, the model, a statement whose SKUs are unknown).

The writes are seen where every one of them passes, the engine: any statement on any
connection, ORM or Core or raw SQL, from the API, the workers, the CLI or a test's
cleanup. A row of a SKU's tables (orders, stock, shipments...) names its SKU only
sometimes (an UPDATE by primary key does not); the SKUs R16 re-evaluated in the same
transaction (``declare_changed_skus``, called by ``publish_if_changed``) name them, and a
transaction with such a row and none declared changes everything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

CHANNEL = "headstart_offers"
EVERYTHING = "*"
# NOTIFY payloads must stay under 8000 bytes: more SKUs than fit is "everything".
MAX_PAYLOAD = 7000

# Tables no offer reads: writing them changes no offer.
NEUTRAL_TABLES = frozenset(
    {
        "api_keys",
        "tracking_events",
        "receipts",
        "order_revisions",
        "outbox",
        "webhooks",
        "deliveries",
        "offer_decisions",
        "estimate_snapshots",
        "web_sessions",
    }
)
# Tables of one SKU's supply and demand (R6); every other table changes every offer.
SKU_TABLES = frozenset({"products", "stock", "shipments", "shipment_lines", "orders"})
# R4: an order allocated or cancelled enters its seller's on-time record, which every
# SKU of the seller's offers read.
_ON_TIME_COLUMNS = ("allocated_at", "cancel_reason")
_WRITES = re.compile(
    r"\s*(INSERT|UPDATE|DELETE|TRUNCATE|MERGE|ALTER|DROP|CREATE|COPY)\b", re.IGNORECASE
)
_INFO_KEY = "headstart_offer_changes"


@dataclass
class OfferChanges:
    """What the connection's open transaction changed so far."""

    skus: set[str] = field(default_factory=set)
    everything: bool = False
    unattributed: bool = False  # a SKU table's row whose SKU its statement did not name

    def payload(self) -> str | None:
        """The NOTIFY payload at commit: None when no offer changed."""
        if self.everything or (self.unattributed and not self.skus):
            return EVERYTHING
        if not self.skus:
            return None
        text = json.dumps(sorted(self.skus), separators=(",", ":"))
        return text if len(text.encode()) <= MAX_PAYLOAD else EVERYTHING

    def record(self, table: str | None, rows: Sequence[dict[str, Any]]) -> None:
        """A DML statement on ``table`` with these bound parameters."""
        if table in NEUTRAL_TABLES:
            return
        if table not in SKU_TABLES:
            self.everything = True
            return
        if table == "orders" and any(_enters_on_time_record(row) for row in rows):
            self.everything = True
            return
        for row in rows or ({},):
            sku = row.get("sku", row.get(f"{table}_sku"))
            if isinstance(sku, str):
                self.skus.add(sku)
            else:
                self.unattributed = True


def _enters_on_time_record(row: dict[str, Any]) -> bool:
    if row.get("source", "head_start") != "head_start":
        return False  # an in-stock order is allocated when placed: no head-start record
    return any(row.get(column) is not None for column in _ON_TIME_COLUMNS)


def parse_payload(payload: str) -> list[str] | None:
    """The SKUs a notification names; None: every offer changed."""
    if payload == EVERYTHING:
        return None
    try:
        skus = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(skus, list) or not all(isinstance(sku, str) for sku in skus):
        return None
    return skus


def _changes(info: dict[Any, Any]) -> OfferChanges:
    changes = info.get(_INFO_KEY)
    if changes is None:
        changes = info[_INFO_KEY] = OfferChanges()
    return changes  # type: ignore[no-any-return]


def declare_changed_skus(session: Session, skus: Iterable[str]) -> None:
    """R16 re-evaluated these SKUs in this transaction: their offers may have changed."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _changes(connection.info).skus.update(skus)


def install_offer_notices(engine: Engine) -> None:
    """Make every transaction on ``engine`` (PostgreSQL) notify the offers it changed."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "after_cursor_execute")
    def _after_execute(
        connection: Connection,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        context: Any,
        _executemany: bool,
    ) -> None:
        if context.isinsert or context.isupdate or context.isdelete:
            table = getattr(context.compiled.statement, "table", None)
            _changes(connection.info).record(
                getattr(table, "name", None), context.compiled_parameters
            )
        elif _WRITES.match(statement):  # raw SQL, DDL: which rows is unknown
            _changes(connection.info).everything = True

    @event.listens_for(engine, "commit")
    def _before_commit(connection: Connection) -> None:
        # Runs just before COMMIT is sent: the NOTIFY is part of the transaction.
        changes = connection.info.pop(_INFO_KEY, None)
        payload = changes.payload() if changes is not None else None
        if payload is None:
            return
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
        finally:
            cursor.close()

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection: Connection) -> None:
        connection.info.pop(_INFO_KEY, None)

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info.pop(_INFO_KEY, None)  # returned without COMMIT: nothing was committed
