"""Receipts and closing a shipment (R11, R5)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from headstart.domain import notifications
from headstart.domain.errors import Conflict, InvalidRequest
from headstart.domain.supply import learned_shrink
from headstart.services.estimation import EstimatorCache, record_never, record_outcomes
from headstart.services.fc_load import fc_loads
from headstart.services.outbox import enqueue
from headstart.services.policy import load_policy
from headstart.services.receiving_fill import fill_from_stock
from headstart.services.refresh import lock_skus, refresh_skus
from headstart.services.reported_time import ensure_not_future
from headstart.services.shipments import owned_shipment, reestimate
from headstart.store.tables import ProductRow, ReceiptRow, SellerRow, ShipmentLineRow, StockRow
from headstart.store.uow import UnitOfWork

RECEIVABLE = frozenset({"shipped", "in_transit", "delivered", "checked_in", "receiving"})


def record_receipt(
    uow: UnitOfWork,
    estimators: EstimatorCache,
    *,
    shipment_id: str,
    receipt_id: str,
    received_at: datetime,
    lines: list[tuple[str, int]],
) -> dict[str, Any]:
    """R11: received units fill waiting orders first; idempotent by ``receipt_id``."""
    with uow:
        shipment = owned_shipment(uow, shipment_id, None)
        existing = uow.session.get(ReceiptRow, receipt_id)
        if existing is not None:
            if existing.shipment_id != shipment_id:
                raise Conflict(f"receipt {receipt_id!r} belongs to another shipment")
            return {"receipt_id": receipt_id, "duplicate": True, "allocated_orders": []}
        if shipment.status not in RECEIVABLE:
            raise Conflict(f"shipment {shipment_id} is {shipment.status}; it cannot receive units")
        now = uow.now()
        ensure_not_future("received_at", received_at, now)
        if shipment.shipped_at is not None and received_at < shipment.shipped_at:
            raise InvalidRequest(
                "received_at is before the shipment was shipped",
                {
                    "received_at": received_at.isoformat(),
                    "shipped_at": shipment.shipped_at.isoformat(),
                },
            )
        shipment_lines = {
            line.sku: line
            for line in uow.session.scalars(
                select(ShipmentLineRow).where(ShipmentLineRow.shipment_id == shipment_id)
            )
        }
        unknown = [sku for sku, _ in lines if sku not in shipment_lines]
        if unknown:
            raise InvalidRequest("SKUs not on this shipment", {"skus": unknown})
        uow.session.add(
            ReceiptRow(
                receipt_id=receipt_id,
                shipment_id=shipment_id,
                received_at=received_at,
                lines=[{"sku": sku, "quantity": quantity} for sku, quantity in lines],
                recorded_at=now,
            )
        )
        if shipment.in_stock_at is None:
            shipment.in_stock_at = received_at  # the first units became sellable
            record_outcomes(uow.session, shipment.id, received_at, now)  # calibration learns
        shipment.status = "receiving"
        allocated: list[str] = []
        # R8: every SKU of the shipment, in SKU order, before any is changed: all of them
        # are refreshed below.
        lock_skus(uow, sorted(shipment_lines))
        for sku, quantity in sorted(lines):
            shipment_lines[sku].quantity_received += quantity
            stock = uow.session.get(StockRow, (sku, shipment.destination_fc))
            assert stock is not None  # created with the shipment line
            stock.sellable += quantity
            allocated.extend(order.id for order in fill_from_stock(uow.session, stock, now))
        estimator = estimators.current(uow.session)
        loads = fc_loads(uow.session, now, shipment.destination_fc)
        reestimate(uow.session, shipment, estimator, now, loads)
        uow.session.flush()
        refresh_skus(
            uow,
            # Every SKU of the shipment: its new estimate moves all its lots (the sweep
            # only refreshes SKUs whose lots moved since the estimate was stored).
            shipment_lines,
            now=now,
            policy=load_policy(uow.session),
            estimator=estimator,
            reason="units_received",
        )
        uow.commit()
        return {"receipt_id": receipt_id, "duplicate": False, "allocated_orders": allocated}


def close_shipment(uow: UnitOfWork, estimators: EstimatorCache, shipment_id: str) -> dict[str, Any]:
    """R11: what never arrived stops counting; R5: the seller's shrink rate learns from it."""
    with uow:
        shipment = owned_shipment(uow, shipment_id, None)
        if shipment.status in ("closed", "cancelled"):
            raise Conflict(f"shipment {shipment_id} is already {shipment.status}")
        now = uow.now()
        lines = list(
            uow.session.scalars(
                select(ShipmentLineRow).where(ShipmentLineRow.shipment_id == shipment_id)
            )
        )
        shortfall = {
            line.sku: line.quantity_shipped - line.quantity_received
            for line in lines
            if line.quantity_received < line.quantity_shipped
        }
        was_shipped = shipment.shipped_at is not None
        shipment.status = "closed" if was_shipped else "cancelled"
        shipment.closed_at = now
        seller = uow.session.get(SellerRow, shipment.seller_id)
        assert seller is not None
        if was_shipped and shipment.in_stock_at is None:
            record_never(uow.session, shipment.id, now)  # its overdue promises end here
        if was_shipped:
            seller.closed_units_shipped += sum(line.quantity_shipped for line in lines)
            seller.closed_units_received += sum(
                min(line.quantity_received, line.quantity_shipped) for line in lines
            )
            policy = load_policy(uow.session)
            seller.shrink = str(
                learned_shrink(seller.closed_units_shipped, seller.closed_units_received, policy)
            )
        if shortfall and was_shipped:
            enqueue(
                uow.session,
                notifications.short_receipt(seller.id, seller.email, shipment.id, shortfall),
                now,
            )
        uow.session.flush()
        # R5/R8: a new shrink rate changes every lot of this seller, so R6 is re-run for
        # all their SKUs now, not left broken until each one next changes.
        skus = (
            uow.session.scalars(select(ProductRow.sku).where(ProductRow.seller_id == seller.id))
            if was_shipped
            else (line.sku for line in lines)
        )
        refresh_skus(
            uow,
            skus,
            now=now,
            policy=load_policy(uow.session),
            estimator=estimators.current(uow.session),
            reason="short_close" if shortfall else "shipment_closed",
        )
        uow.commit()
        return {
            "shipment_id": shipment_id,
            "status": shipment.status,
            "shortfall": shortfall,
            "seller_shrink": str(Decimal(seller.shrink)),
        }
