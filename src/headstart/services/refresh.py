"""After any change to a SKU's supply: re-promise (R9/R10), then publish its offer (R16)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from headstart.domain.calendar import FulfillmentCenter
from headstart.domain.estimate import InStockEstimator
from headstart.domain.policy import Policy
from headstart.domain.repromise import Cancel
from headstart.services.outbox import OutboxBuffer
from headstart.services.publishing import publish_if_changed
from headstart.services.repromising import repromise
from headstart.services.sku_state import SkuState, SkuStates, load_fcs
from headstart.store.tables import ProductRow, StockRow
from headstart.store.uow import UnitOfWork

_CHUNK = 500  # SKUs per locking query


def refresh_skus(
    uow: UnitOfWork,
    skus: Iterable[str],
    *,
    now: datetime,
    policy: Policy,
    estimator: InStockEstimator,
    reason: str,
    fcs: dict[str, FulfillmentCenter] | None = None,
) -> list[SkuState]:
    """Lock the SKUs in a fixed order (no deadlocks between use cases), then refresh each.

    What every SKU needs is read in a few queries for all of them (``SkuStates``) and
    the notices are written together at the end; each SKU is re-promised and its offer
    published in SKU order, as one by one.
    """
    wanted = sorted(set(skus))
    if not wanted:
        return []
    products, stock = lock_skus(uow, wanted)
    if not products:
        return []
    session = uow.session
    loaded = SkuStates.load(
        session,
        products,
        now=now,
        policy=policy,
        estimator=estimator,
        fcs=fcs if fcs is not None else load_fcs(session),
        stock=stock,
    )
    outbox = OutboxBuffer()
    states = []
    # Nothing below reads what an earlier SKU wrote but R4's record (flushed for it by
    # ``SkuStates``): the changes go to the database in one flush at the end.
    with session.no_autoflush:
        for product in products:
            state = loaded.state(product)
            decisions = repromise(session, state, policy, now, reason, outbox=outbox)
            if any(isinstance(decision, Cancel) for decision in decisions):
                loaded.forget_on_time(product.seller_id)  # R4's record of this seller changed
            publish_if_changed(session, state, policy, now, outbox=outbox)
            states.append(state)
    outbox.write(session, now)
    return states


def lock_skus(uow: UnitOfWork, skus: list[str]) -> tuple[list[ProductRow], list[StockRow]]:
    """R8 for many SKUs (sorted): what ``uow.lock_sku`` does for each, in two queries.

    PostgreSQL locks the product rows in SKU order, then their stock rows; every use
    case takes a SKU's product row before its stock rows, so no two wait on each other.
    SQLite already holds the database write lock. Returns the products (SKU order) and
    their stock rows.
    """
    products: list[ProductRow] = []
    stock: list[StockRow] = []
    postgres = uow.is_postgres
    for start in range(0, len(skus), _CHUNK):
        part = skus[start : start + _CHUNK]
        query = select(ProductRow).where(ProductRow.sku.in_(part))
        stock_query = select(StockRow).where(StockRow.sku.in_(part))
        if postgres:
            # Byte order ("C"), the order of Python's sorted(): the order lock_sku's
            # callers take SKUs in, whatever the database's collation.
            query = query.order_by(ProductRow.sku.collate("C")).with_for_update()
            stock_query = stock_query.order_by(
                StockRow.sku.collate("C"), StockRow.fc
            ).with_for_update()
        products.extend(uow.session.scalars(query))
        stock.extend(uow.session.scalars(stock_query))
    products.sort(key=lambda product: product.sku)
    return products, stock


def refresh_state(
    session: Session, state: SkuState, policy: Policy, now: datetime, reason: str
) -> None:
    repromise(session, state, policy, now, reason)
    publish_if_changed(session, state, policy, now)
