"""What a seller's pages read (issue 5), always scoped to one seller.

Reads only: every change goes through the same services as the API.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from headstart.domain.errors import Conflict, NotFound
from headstart.domain.supply import is_suppressed
from headstart.services.accuracy import judged_orders, summarize
from headstart.services.catalog import product_view
from headstart.services.estimation import EstimatorCache
from headstart.services.policy import load_policy
from headstart.services.shipments import shipment_view
from headstart.services.sku_state import HEAD_START_ORDERS, current_estimate, load_fcs
from headstart.services.views import order_view
from headstart.store.mappers import enrollment_of
from headstart.store.tables import (
    OrderRow,
    ProductRow,
    SellerRow,
    ShipmentLineRow,
    ShipmentRow,
    TrackingEventRow,
)
from headstart.store.uow import UnitOfWork

NOT_COMING = ("closed", "cancelled")  # shipments whose units will not arrive any more
ORDER_LIMIT = 200
SHIPMENT_LIMIT = 200


def _seller(uow: UnitOfWork, seller_id: str) -> SellerRow:
    seller = uow.session.get(SellerRow, seller_id)
    if seller is None:
        raise NotFound(f"no seller {seller_id!r}", {"seller_id": seller_id})
    return seller


def seller_name(uow: UnitOfWork, seller_id: str) -> str:
    with uow:
        return _seller(uow, seller_id).name


def opt_out_preview(uow: UnitOfWork, seller_id: str) -> datetime | None:
    """R1: if the seller confirmed an opt-out now, shipments created from this instant on
    would stop participating; None when the seller cannot opt out (not enrolled)."""
    with uow:
        enrollment = enrollment_of(_seller(uow, seller_id))
        try:
            preview = enrollment.opt_out(uow.now())  # computed, never stored
        except Conflict:
            return None
        return preview.effective_for_shipments_created_from


def seller_products(uow: UnitOfWork, seller_id: str) -> list[dict[str, Any]]:
    with uow:
        _seller(uow, seller_id)
        rows = uow.session.scalars(
            select(ProductRow).where(ProductRow.seller_id == seller_id).order_by(ProductRow.sku)
        )
        return [product_view(row) for row in rows]


def read_product(uow: UnitOfWork, sku: str) -> dict[str, Any]:
    with uow:
        row = uow.session.get(ProductRow, sku)
        if row is None:
            raise NotFound(f"no product with SKU {sku!r}", {"sku": sku})
        return product_view(row)


def seller_shipments(
    uow: UnitOfWork, estimators: EstimatorCache, seller_id: str
) -> list[dict[str, Any]]:
    """The seller's shipments, newest first, each as ``GET /v1/shipments/{id}`` shows it."""
    with uow:
        _seller(uow, seller_id)
        now = uow.now()
        estimator = estimators.current(uow.session)
        rows = uow.session.scalars(
            select(ShipmentRow)
            .where(ShipmentRow.seller_id == seller_id)
            .order_by(ShipmentRow.created_at.desc(), ShipmentRow.id)
            .limit(SHIPMENT_LIMIT)
        ).all()
        return [shipment_view(uow, row, estimator, now) for row in rows]


def at_risk_shipments(
    uow: UnitOfWork, estimators: EstimatorCache, seller_id: str
) -> list[dict[str, Any]]:
    """Open shipments that may let buyers down, each with why:

    - ``shipment_exception``: lost, damaged or refused (R10 re-sources its orders);
    - ``carrier_reported_delay``: its latest tracking event is a carrier's delay;
    - ``carrier_eta_slipped``: the carrier's ETA moved a day or more past its first one;
    - ``overdue``: not in stock though 90% of estimated outcomes would be (R12);
    - ``promise_at_risk``: the chance of being in stock by the earliest promise waiting
      on it at its FC is below q_low (R9).
    """
    with uow:
        _seller(uow, seller_id)
        now = uow.now()
        policy = load_policy(uow.session)
        fcs = load_fcs(uow.session)
        estimator = estimators.current(uow.session)
        shipments = uow.session.scalars(
            select(ShipmentRow)
            .where(ShipmentRow.seller_id == seller_id)
            .where(ShipmentRow.status.not_in(NOT_COMING))
            .where(ShipmentRow.shipped_at.is_not(None) | (ShipmentRow.status == "exception"))
            .order_by(ShipmentRow.created_at, ShipmentRow.id)
        ).all()
        found: list[dict[str, Any]] = []
        for shipment in shipments:
            reasons: list[str] = []
            probability: float | None = None
            earliest = _earliest_waiting_promise(uow, shipment)
            if shipment.status == "exception":
                reasons.append("shipment_exception")
            if _latest_event_type(uow, shipment.id) == "delayed":
                reasons.append("carrier_reported_delay")
            if (
                shipment.carrier_eta
                and shipment.first_carrier_eta
                and shipment.carrier_eta - shipment.first_carrier_eta >= timedelta(days=1)
            ):
                reasons.append("carrier_eta_slipped")
            if shipment.shipped_at is not None and shipment.in_stock_at is None:
                estimate = current_estimate(shipment, estimator, now)
                if now > estimate.p90:
                    reasons.append("overdue")
                fc = fcs.get(shipment.destination_fc)
                if earliest is not None and fc is not None:
                    probability = estimate.probability_in_stock_by(fc.end_of_local_day(earliest))
                    if probability < policy.q_low:
                        reasons.append("promise_at_risk")
            if reasons:
                found.append(
                    {
                        **shipment_view(uow, shipment, estimator, now),
                        "risk_reasons": reasons,
                        "earliest_waiting_promise": earliest.isoformat() if earliest else None,
                        "probability_in_stock_by_promise": (
                            round(probability, 4) if probability is not None else None
                        ),
                    }
                )
        return found


def _latest_event_type(uow: UnitOfWork, shipment_id: str) -> str | None:
    return uow.session.scalars(
        select(TrackingEventRow.type)
        .where(TrackingEventRow.shipment_id == shipment_id)
        .order_by(TrackingEventRow.occurred_at.desc(), TrackingEventRow.recorded_at.desc())
        .limit(1)
    ).first()


def _earliest_waiting_promise(uow: UnitOfWork, shipment: ShipmentRow) -> date | None:
    """The earliest promised in-stock date of orders waiting on this shipment's SKUs at its FC."""
    return uow.session.scalars(
        select(OrderRow.promised_in_stock_date)
        .join(ShipmentLineRow, ShipmentLineRow.sku == OrderRow.sku)
        .where(ShipmentLineRow.shipment_id == shipment.id)
        .where(OrderRow.fc == shipment.destination_fc, OrderRow.status == "promised")
        .order_by(OrderRow.promised_in_stock_date)
        .limit(1)
    ).first()


def seller_orders(uow: UnitOfWork, seller_id: str) -> list[dict[str, Any]]:
    """Head-start orders of the seller's SKUs, newest first, with promises and revisions."""
    with uow:
        _seller(uow, seller_id)
        rows = uow.session.scalars(
            select(OrderRow)
            .where(OrderRow.seller_id == seller_id, HEAD_START_ORDERS)
            .order_by(OrderRow.seq.desc())
            .limit(ORDER_LIMIT)
        ).all()
        return [order_view(uow.session, row) for row in rows]


def seller_record(uow: UnitOfWork, seller_id: str) -> dict[str, Any]:
    """The seller's on-time record (R4) and receiving shortfall (R5)."""
    with uow:
        seller = _seller(uow, seller_id)
        policy = load_policy(uow.session)
        judged = judged_orders(uow.session, seller_id=seller_id)
        window = judged[-policy.on_time_window :]
        shipped, received = seller.closed_units_shipped, seller.closed_units_received
        return {
            "seller_id": seller_id,
            "all_time": summarize(judged),
            "recent_window": policy.on_time_window,
            "recent": summarize(window),
            "min_on_time_rate": policy.min_on_time_rate,
            "suppressed": is_suppressed([j.on_time for j in window], policy),
            "closed_units_shipped": shipped,
            "closed_units_received": received,
            "shortfall_rate": (
                str(round(Decimal(shipped - received) / Decimal(shipped), 4)) if shipped else None
            ),
            "shrink": seller.shrink,
            "default_shrink": str(policy.default_shrink),
        }
