"""Placing, reading, cancelling and confirming orders (R3, R6, R7, R8, R9a)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from headstart.domain import notifications
from headstart.domain.errors import Conflict, InvalidRequest, NotFound, NotInStock, Unavailable
from headstart.domain.placement import IN_STOCK, quote
from headstart.domain.policy import Policy
from headstart.domain.promise import Promise
from headstart.services.estimation import EstimatorCache
from headstart.services.estimator_on_demand import EstimatorOnDemand
from headstart.services.ids import new_id
from headstart.services.offer_cache import OfferCache
from headstart.services.offers import policy_and_fcs
from headstart.services.outbox import enqueue
from headstart.services.policy import load_policy
from headstart.services.publishing import publish_if_changed
from headstart.services.receiving_fill import fill_from_stock
from headstart.services.repromising import cancel_order_row
from headstart.services.sku_state import SkuState, load_sku_state
from headstart.services.views import order_view
from headstart.services.waiting_orders import WaitingRow
from headstart.store.plain_sql import insert_row, update_row
from headstart.store.tables import OrderRow, ProductRow, StockRow
from headstart.store.uow import UnitOfWork

OPEN_STATUSES = ("promised", "allocated")
NOT_IN_STOCK = "not_in_stock"  # why an in-stock-only order is unavailable


def allocate(stock: StockRow, quantity: int) -> dict[str, int]:
    """The stock row's counts once ``quantity`` of its sellable units are set aside."""
    return {"sellable": stock.sellable - quantity, "allocated": stock.allocated + quantity}


def fingerprint(sku: str, quantity: int, region: str, buyer_ref: str) -> str:
    body = json.dumps([sku, quantity, region, buyer_ref]).encode()
    return hashlib.sha256(body).hexdigest()


_BY_IDEMPOTENCY_KEY = select(OrderRow).where(
    OrderRow.idempotency_scope == bindparam("scope"), OrderRow.idempotency_key == bindparam("key")
)


def _replay(uow: UnitOfWork, scope: str, key: str, expected: str) -> dict[str, Any] | None:
    """R8: a retried request returns the first result and creates nothing."""
    order = uow.session.scalars(_BY_IDEMPOTENCY_KEY, {"scope": scope, "key": key}).one_or_none()
    if order is None:
        return None
    if order.request_fingerprint != expected:
        raise Conflict(
            "this Idempotency-Key was already used for a different order",
            {"idempotency_key": key, "order_id": order.id},
        )
    return order_view(uow.session, order)


def place_order(
    uow: UnitOfWork,
    estimators: EstimatorCache,
    *,
    sku: str,
    quantity: int,
    region: str,
    buyer_ref: str,
    placed_by: str,
    idempotency_key: str | None = None,
    cache: OfferCache | None = None,
) -> tuple[dict[str, Any], bool]:
    """Promise and record an order atomically; returns (order, created).

    ``cache``: the process's offers, whose policy and FCs spare reading them.
    """
    if quantity <= 0:
        raise InvalidRequest("quantity must be a positive number of units", {"quantity": quantity})
    request_fingerprint = fingerprint(sku, quantity, region, buyer_ref)
    stamp = cache.catch_up() if cache is not None else None  # before the transaction
    try:
        with uow:
            # R8: concurrent orders for a SKU queue here (PostgreSQL locks its stock rows
            # too, read once for the state below).
            product, stock_rows = uow.lock_sku_with_stock(sku)
            # A retry finds its first attempt, even one it queued behind. Looked up
            # under the lock only: a retry is rare, a lookup before it cost every order.
            if idempotency_key and (
                replay := _replay(uow, placed_by, idempotency_key, request_fingerprint)
            ):
                return replay, False
            if product is None:
                raise NotFound(f"no product with SKU {sku!r}", {"sku": sku})
            now = uow.now()
            policy, fcs = policy_and_fcs(uow, cache, stamp)
            state = load_sku_state(
                uow.session,
                product,
                now=now,
                policy=policy,
                estimator=EstimatorOnDemand(estimators, uow.session),
                fcs=fcs,
                stock_rows=stock_rows,
            )
            order, promise = new_order(
                state,
                policy,
                now,
                OrderRequest(sku, quantity, region, buyer_ref),
                placed_by=placed_by,
                idempotency_key=idempotency_key,
            )
            insert_row(uow.session, order)  # a plain insert: nothing reads it back
            if order.source == IN_STOCK:
                stock = state.stock[promise.fc]
                update_row(uow.session, stock, allocate(stock, quantity))
            else:
                state.waiting.append(WaitingRow.placed(order, promise))
            publish_if_changed(uow.session, state, policy, now)
            view = order_view(uow.session, order, revisions=())  # a new order has none
            uow.commit()
            return view, True
    except IntegrityError:
        # Two retries with one Idempotency-Key raced on PostgreSQL: the loser
        # returns the winner's order.
        if not idempotency_key:
            raise
        with uow:
            replay = _replay(uow, placed_by, idempotency_key, request_fingerprint)
            if replay is None:
                raise
            return replay, False


@dataclass(frozen=True)
class OrderRequest:
    """One buyer's order. ``in_stock_only``: the buyer takes units on the shelf and no
    head-start date (a storefront's "in stock now" filter); such an order is unavailable
    where only incoming units could fill it."""

    sku: str
    quantity: int
    region: str
    buyer_ref: str
    in_stock_only: bool = False


def new_order(
    state: SkuState,
    policy: Policy,
    now: datetime,
    request: OrderRequest,
    *,
    placed_by: str,
    idempotency_key: str | None = None,
) -> tuple[OrderRow, Promise]:
    """The order ``request`` places against ``state`` (R3, R6, R7), not yet written, and
    its promise; raises ``Unavailable`` when it cannot be promised."""
    sku, quantity, region = request.sku, request.quantity, request.region
    if not any(fc.serves(region) for fc in state.fcs.values()):
        raise InvalidRequest(f"no FC delivers to region {region!r}", {"region": region})
    offer = quote(state.supply(), quantity, region, policy, now)
    if not offer.buyable or offer.promise is None:
        raise Unavailable(
            f"{quantity} unit(s) of {sku} cannot be promised to {region}",
            {"reasons": list(offer.reasons), "available_quantity": offer.available_quantity},
        )
    if request.in_stock_only and offer.source != IN_STOCK:
        raise NotInStock(
            f"{quantity} unit(s) of {sku} are not in stock for {region}",
            {"reasons": [NOT_IN_STOCK], "available_quantity": offer.available_quantity},
        )
    promise = offer.promise
    order = OrderRow(
        id=new_id("ord"),
        sku=sku,
        seller_id=state.product.seller_id,  # R4 reads a seller's orders by it
        quantity=quantity,
        region=region,
        buyer_ref=request.buyer_ref,
        placed_by=placed_by,
        fc=promise.fc,
        source=offer.source,
        status="allocated" if offer.source == IN_STOCK else "promised",
        promise=promise.to_dict(),
        promised_in_stock_date=promise.promised_in_stock_date,
        promised_ship_date=promise.promised_ship_date,
        first_promise=promise.to_dict(),
        slips=0,
        decision=offer.inputs,
        placed_at=now,
        allocated_at=now if offer.source == IN_STOCK else None,
        idempotency_scope=placed_by if idempotency_key else None,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint(sku, quantity, region, request.buyer_ref),
    )
    return order, promise


def _owned_order(uow: UnitOfWork, order_id: str, placed_by: str | None) -> OrderRow:
    order = uow.session.scalars(select(OrderRow).where(OrderRow.id == order_id)).one_or_none()
    if order is None or (placed_by is not None and order.placed_by != placed_by):
        raise NotFound(f"no order {order_id!r}", {"order_id": order_id})
    return order


def get_order(uow: UnitOfWork, order_id: str, placed_by: str | None) -> dict[str, Any]:
    with uow:
        return order_view(uow.session, _owned_order(uow, order_id, placed_by))


def cancel_order(
    uow: UnitOfWork, estimators: EstimatorCache, order_id: str, placed_by: str | None
) -> dict[str, Any]:
    """The buyer cancels (R9a: one step, full refund); allocated units go back on sale."""
    with uow:
        order = _owned_order(uow, order_id, placed_by)
        product = uow.lock_sku(order.sku)
        assert product is not None
        uow.session.refresh(order)
        if order.status not in OPEN_STATUSES:
            raise Conflict(f"order {order_id} is {order.status} and cannot be cancelled")
        now = uow.now()
        was_allocated = order.status == "allocated"
        cancel_order_row(uow.session, order, "buyer_cancelled", now)
        if was_allocated:
            stock = uow.session.get(StockRow, (order.sku, order.fc))
            assert stock is not None
            stock.allocated -= order.quantity
            stock.sellable += order.quantity
            fill_from_stock(uow.session, stock, now)  # R11: freed units go to waiting orders first
        policy = load_policy(uow.session)
        state = load_sku_state(
            uow.session,
            product,
            now=now,
            policy=policy,
            estimator=EstimatorOnDemand(estimators, uow.session),
        )
        publish_if_changed(uow.session, state, policy, now)
        view = order_view(uow.session, order)
        uow.commit()
        return view


def confirm_delay(uow: UnitOfWork, order_id: str, placed_by: str | None) -> dict[str, Any]:
    """R9a: the buyer says yes to a slip that silence does not cover."""
    with uow:
        order = _owned_order(uow, order_id, placed_by)
        if order.status != "promised" or order.consent_due_at is None:
            raise Conflict(f"order {order_id} has no delay waiting for confirmation")
        order.consent_due_at = None
        enqueue(
            uow.session,
            notifications.Notification(
                kind="delay_confirmed",
                recipient=f"buyer:{order.buyer_ref}",
                subject=f"You kept order {order.id}",
                body=f"Thank you: order {order.id} stays open with its revised date.",
                dedupe_key=f"delay_confirmed:{order.id}:{order.slips}",
                payload={"seller_id": _seller_of(uow, order.sku), "order_id": order.id},
            ),
            uow.now(),
        )
        view = order_view(uow.session, order)
        uow.commit()
        return view


def _seller_of(uow: UnitOfWork, sku: str) -> str:
    product = uow.session.get(ProductRow, sku)
    assert product is not None  # an order's SKU is a foreign key
    return product.seller_id
