"""Rows to domain objects: the one place that knows both shapes."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

from headstart.domain.calendar import FulfillmentCenter
from headstart.domain.enrollment import Enrollment
from headstart.domain.estimate import ClosedShipment, InStockEstimate, ShipmentProgress
from headstart.domain.promise import Promise
from headstart.domain.supply import ShipmentFacts
from headstart.store.tables import FulfillmentCenterRow, OrderRow, SellerRow, ShipmentRow


def fc_from_row(row: FulfillmentCenterRow) -> FulfillmentCenter:
    return FulfillmentCenter(
        code=row.code,
        time_zone=row.time_zone,
        region=row.region,
        handling_days=row.handling_days,
        cutoff_local_time=time.fromisoformat(row.cutoff_local_time),
        holidays=frozenset(date.fromisoformat(d) for d in row.holidays),
        outbound_transit_days=dict(row.outbound_transit_days),
        operating_weekdays=frozenset(row.operating_weekdays),
    )


def enrollment_of(seller: SellerRow) -> Enrollment:
    return Enrollment.from_dict(seller.enrollment)


def shrink_of(seller: SellerRow) -> Decimal:
    return Decimal(seller.shrink)


def facts_of(shipment: ShipmentRow) -> ShipmentFacts:
    return ShipmentFacts(
        shipment_id=shipment.id,
        created_at=shipment.created_at,
        carrier_program=shipment.carrier_program,
        status=shipment.status,
        tracking_validated=shipment.tracking_validated,
        shipped_at=shipment.shipped_at,
    )


def progress_of(shipment: ShipmentRow) -> ShipmentProgress:
    assert shipment.shipped_at is not None
    return ShipmentProgress(
        mode=shipment.mode,
        carrier_program=shipment.carrier_program,
        origin=shipment.origin,
        destination_fc=shipment.destination_fc,
        shipped_at=shipment.shipped_at,
        last_milestone=shipment.last_milestone,
        last_milestone_at=shipment.last_milestone_at if shipment.last_milestone else None,
        carrier_eta=shipment.carrier_eta,
        delivered_at=shipment.delivered_at,
        tracking_validated=shipment.tracking_validated,
    )


def closed_of(shipment: ShipmentRow, shipped: int, received: int) -> ClosedShipment | None:
    """A closed shipment as history, when it has the instants the estimator learns from."""
    if shipment.shipped_at is None or shipment.in_stock_at is None:
        return None
    delivered = shipment.delivered_at
    if delivered is not None and not shipment.shipped_at <= delivered <= shipment.in_stock_at:
        delivered = None
    if shipment.in_stock_at < shipment.shipped_at:
        return None
    return ClosedShipment(
        mode=shipment.mode,
        carrier_program=shipment.carrier_program,
        origin=shipment.origin,
        destination_fc=shipment.destination_fc,
        shipped_at=shipment.shipped_at,
        delivered_at=delivered,
        in_stock_at=shipment.in_stock_at,
        quantity_shipped=shipped,
        quantity_received=received,
    )


def estimate_of(shipment: ShipmentRow) -> InStockEstimate | None:
    return InStockEstimate.from_dict(shipment.estimate) if shipment.estimate else None


def promise_of(order: OrderRow) -> Promise:
    return Promise.from_dict(order.promise)


def first_promise_of(order: OrderRow) -> Promise:
    return Promise.from_dict(order.first_promise)
