"""Many orders placed in one transaction, as if one after another (R3, R6, R7, R8, R16).

A storefront that gathers its orders for a moment (the marketplace simulator gathers each
clock step's buyers) places them here: the SKUs are locked and read once, each order is
promised against the supply the orders before it left, and the rows are written together.
An order that cannot be placed is answered with its error and the others still go in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from headstart.domain.errors import HeadStartError, InvalidRequest, NotFound, Unavailable
from headstart.domain.placement import IN_STOCK
from headstart.services.estimation import EstimatorCache
from headstart.services.estimator_on_demand import EstimatorOnDemand
from headstart.services.orders import OrderRequest, allocate, new_order
from headstart.services.outbox import OutboxBuffer
from headstart.services.policy import load_policy
from headstart.services.publishing import publish_if_changed
from headstart.services.refresh import lock_skus
from headstart.services.sku_state import SkuState, SkuStates, load_fcs
from headstart.services.views import order_view
from headstart.services.waiting_orders import WaitingRow
from headstart.store.plain_sql import insert_rows
from headstart.store.tables import OrderRow
from headstart.store.uow import UnitOfWork

OrderResult = dict[str, Any] | HeadStartError  # the order's view, or why it was not placed


def place_orders(
    uow: UnitOfWork,
    estimators: EstimatorCache,
    requests: Sequence[OrderRequest],
    *,
    placed_by: str,
) -> list[OrderResult]:
    """Place ``requests`` in their order in one transaction; one result per request.

    The same as ``orders.place_order`` for each in turn, without idempotency keys (the
    batch is atomic: all of it is recorded, or none): a request's order is promised
    against the stock and waiting orders the earlier ones left. A request for an unknown
    SKU, an unserved region or units that cannot be promised gets its error (``NotFound``,
    ``InvalidRequest``, ``Unavailable``) in place of an order. A quantity below one
    refuses the whole batch before anything is read.
    """
    for request in requests:
        if request.quantity <= 0:
            raise InvalidRequest(
                "quantity must be a positive number of units",
                {"sku": request.sku, "quantity": request.quantity},
            )
    if not requests:
        return []
    with uow:
        session = uow.session
        products, stock = lock_skus(uow, sorted({request.sku for request in requests}))
        now, policy, fcs = uow.now(), load_policy(session), load_fcs(session)
        loaded = SkuStates.load(
            session,
            products,
            now=now,
            policy=policy,
            estimator=EstimatorOnDemand(estimators, session),
            fcs=fcs,
            stock=stock,
        )
        by_sku = {product.sku: product for product in products}
        states: dict[str, SkuState] = {}
        placed: list[OrderRow] = []
        results: list[OrderResult] = []
        # Nothing below reads what an earlier order wrote but from the states in memory:
        # the rows go to the database together at the end.
        with session.no_autoflush:
            for request in requests:
                product = by_sku.get(request.sku)
                if product is None:
                    results.append(NotFound(f"no product with SKU {request.sku!r}"))
                    continue
                state = states.get(request.sku)
                if state is None:
                    state = states[request.sku] = loaded.state(product)
                try:
                    order, promise = new_order(state, policy, now, request, placed_by=placed_by)
                except (InvalidRequest, Unavailable) as error:
                    results.append(error)
                    continue
                if order.source == IN_STOCK:
                    stock_row = state.stock[promise.fc]
                    for name, value in allocate(stock_row, order.quantity).items():
                        setattr(stock_row, name, value)  # the flush writes each row once
                else:
                    state.waiting.append(WaitingRow.placed(order, promise))
                placed.append(order)
                results.append(order_view(session, order, revisions=()))
            # R16 for every SKU the batch looked at, as its orders left it: one whose order
            # was refused may still have an offer that time alone changed since published.
            outbox = OutboxBuffer()
            for state in states.values():
                publish_if_changed(session, state, policy, now, outbox=outbox)
        insert_rows(session, placed)
        outbox.write(session, now)
        uow.commit()
    return results
