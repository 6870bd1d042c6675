from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

from headstart.api.deps import (
    Estimators,
    Offers,
    Reader,
    StorefrontOrOperator,
    Uow,
    order_scope,
)
from headstart.api.schemas import Code, OrderIn
from headstart.domain.errors import HeadStartError
from headstart.observability.metrics import record_order_placed, record_order_refused
from headstart.services import orders

router = APIRouter(prefix="/v1/orders", tags=["orders"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


@router.post(
    "",
    status_code=201,
    responses={
        200: {
            "description": "a retry with the same Idempotency-Key: the first order (R8)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def place_order(
    body: OrderIn,
    uow: Uow,
    estimators: Estimators,
    offers: Offers,
    principal: StorefrontOrOperator,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """R6/R8: promised atomically or refused with 409 ``unavailable``."""
    try:
        view, created = orders.place_order(
            uow,
            estimators,
            sku=body.sku,
            quantity=body.quantity,
            region=body.region,
            buyer_ref=body.buyer_ref,
            placed_by=principal.id,
            idempotency_key=idempotency_key,
            cache=offers,  # its policy and FCs
        )
    except HeadStartError as error:
        record_order_refused(error.code, error.details)
        raise
    record_order_placed(view, created=created)
    if not created:
        response.status_code = 200
    return view


@router.get("/{order_id}")
def get_order(order_id: Code, uow: Reader, principal: StorefrontOrOperator) -> dict[str, Any]:
    return orders.get_order(uow, order_id, order_scope(principal))


@router.post("/{order_id}/cancel")
def cancel_order(
    order_id: Code, uow: Uow, estimators: Estimators, principal: StorefrontOrOperator
) -> dict[str, Any]:
    """R9a: one step, full refund."""
    return orders.cancel_order(uow, estimators, order_id, order_scope(principal))


@router.post("/{order_id}/confirm-delay")
def confirm_delay(order_id: Code, uow: Uow, principal: StorefrontOrOperator) -> dict[str, Any]:
    """R9a: the buyer keeps an order whose slip silence does not cover."""
    return orders.confirm_delay(uow, order_id, order_scope(principal))
