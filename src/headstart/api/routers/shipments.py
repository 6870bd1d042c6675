from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from headstart.api.deps import (
    Estimators,
    Operator,
    Reader,
    SellerOrOperator,
    Uow,
    owner_filter,
    seller_scope,
)
from headstart.api.schemas import Code, ReceiptIn, ShipIn, ShipmentIn
from headstart.services import receiving, shipments

router = APIRouter(prefix="/v1/shipments", tags=["inbound shipments"])


@router.post("", status_code=201)
def create_shipment(body: ShipmentIn, uow: Uow, principal: SellerOrOperator) -> dict[str, Any]:
    return shipments.create_shipment(
        uow,
        seller_id=seller_scope(principal, body.seller_id),
        shipment_id=body.shipment_id,
        destination_fc=body.destination_fc,
        carrier_program=body.carrier_program,
        mode=body.mode,
        carrier=body.carrier,
        tracking_ids=body.tracking_ids,
        origin=body.origin,
        created_at=body.created_at,
        lines=[(line.sku, line.quantity) for line in body.lines],
    )


@router.post("/{shipment_id}/ship")
def ship(
    shipment_id: Code, body: ShipIn, uow: Uow, estimators: Estimators, principal: SellerOrOperator
) -> dict[str, Any]:
    return shipments.ship_shipment(
        uow, estimators, shipment_id, body.shipped_at, owner_filter(principal)
    )


@router.get("/{shipment_id}")
def get_shipment(
    shipment_id: Code, uow: Reader, estimators: Estimators, principal: SellerOrOperator
) -> dict[str, Any]:
    return shipments.get_shipment(uow, estimators, shipment_id, owner_filter(principal))


@router.post("/{shipment_id}/receipts")
def record_receipt(
    shipment_id: Code, body: ReceiptIn, uow: Uow, estimators: Estimators, _: Operator
) -> dict[str, Any]:
    """R11: idempotent by receipt_id; received units fill waiting orders first."""
    return receiving.record_receipt(
        uow,
        estimators,
        shipment_id=shipment_id,
        receipt_id=body.receipt_id,
        received_at=body.received_at,
        lines=[(line.sku, line.quantity) for line in body.lines],
    )


@router.post("/{shipment_id}/close")
def close_shipment(
    shipment_id: Code, uow: Uow, estimators: Estimators, _: Operator
) -> dict[str, Any]:
    return receiving.close_shipment(uow, estimators, shipment_id)
