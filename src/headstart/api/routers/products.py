from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from headstart.api.deps import Estimators, Operator, SellerOrOperator, Uow, seller_scope
from headstart.api.schemas import AdjustmentIn, Code, ProductIn
from headstart.services import catalog

router = APIRouter(tags=["products and inventory"])
JSON_OBJECT = {"application/json": {"schema": {"type": "object"}}}


@router.put(
    "/v1/products/{sku}",
    responses={
        200: {"description": "the product was updated"},
        201: {"description": "the product was created", "content": JSON_OBJECT},
    },
)
def put_product(
    sku: Code,
    body: ProductIn,
    uow: Uow,
    estimators: Estimators,
    principal: SellerOrOperator,
    response: Response,
) -> dict[str, Any]:
    view, created = catalog.put_product(
        uow,
        estimators,
        sku=sku,
        seller_id=seller_scope(principal, body.seller_id),
        title=body.title,
        price=body.price,
        currency=body.currency,
        head_start_excluded=body.head_start_excluded,
        head_start_cap=body.head_start_cap,
    )
    response.status_code = 201 if created else 200
    return view


@router.post("/v1/inventory/adjustments")
def adjust_inventory(
    body: AdjustmentIn, uow: Uow, estimators: Estimators, _: Operator
) -> dict[str, Any]:
    return catalog.adjust_inventory(
        uow, estimators, sku=body.sku, fc=body.fc, delta=body.delta, reason=body.reason
    )
