"""Rows to domain objects: the one place that knows both shapes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Row

from headstart.domain.calendar import FulfillmentCenter
from headstart.domain.enrollment import Enrollment
from headstart.domain.estimate import (
    ClosedShipment,
    HistoryEvent,
    InStockEstimate,
    ShipmentProgress,
)
from headstart.domain.estimate.progress import MILESTONES
from headstart.domain.promise import Promise
from headstart.domain.supply import ShipmentFacts
from headstart.store.tables import (
    FulfillmentCenterRow,
    OrderRow,
    SellerRow,
    ShipmentRow,
    TrackingEventRow,
)


def fc_from_row(row: FulfillmentCenterRow | Row[Any]) -> FulfillmentCenter:
    """From the ORM object or a plain row of the table's columns."""
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


def progress_of(
    shipment: ShipmentRow,
    load: tuple[int, int] | None = None,
    arrivals: tuple[int, ...] | None = None,
) -> ShipmentProgress:
    """What the estimator is told about ``shipment``; ``load`` is its FC's (backlog,
    deliveries in the last 7 days) now and ``arrivals`` its deliveries per day around now
    (``ShipmentProgress.fc_arrivals``), when the caller counted them."""
    assert shipment.shipped_at is not None
    milestones = shipment.milestones or {}
    reached = tuple(
        sorted(
            ((name, datetime.fromisoformat(at)) for name, at in milestones.items()),
            key=lambda item: item[1],
        )
    )
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
        milestones_reached=reached,
        fc_backlog=load[0] if load is not None else None,
        fc_deliveries_7d=load[1] if load is not None else None,
        fc_arrivals=arrivals,
        carrier=shipment.carrier,
        first_carrier_eta=shipment.first_carrier_eta,
        fc_backlog_at_delivery=shipment.fc_backlog_at_delivery,
        fc_deliveries_7d_at_delivery=shipment.fc_deliveries_7d_at_delivery,
    )


def progress_to_dict(progress: ShipmentProgress) -> dict[str, Any]:
    """A snapshot of ``progress`` as JSON, so a later outcome can be scored against it."""

    def instant(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "mode": progress.mode,
        "carrier_program": progress.carrier_program,
        "origin": progress.origin,
        "destination_fc": progress.destination_fc,
        "shipped_at": instant(progress.shipped_at),
        "last_milestone": progress.last_milestone,
        "last_milestone_at": instant(progress.last_milestone_at),
        "carrier_eta": instant(progress.carrier_eta),
        "delivered_at": instant(progress.delivered_at),
        "tracking_validated": progress.tracking_validated,
        "milestones_reached": [[name, at.isoformat()] for name, at in progress.milestones_reached],
        "fc_backlog": progress.fc_backlog,
        "fc_deliveries_7d": progress.fc_deliveries_7d,
        "fc_arrivals": None if progress.fc_arrivals is None else list(progress.fc_arrivals),
        "carrier": progress.carrier,
        "first_carrier_eta": instant(progress.first_carrier_eta),
        "fc_backlog_at_delivery": progress.fc_backlog_at_delivery,
        "fc_deliveries_7d_at_delivery": progress.fc_deliveries_7d_at_delivery,
    }


def progress_from_dict(data: dict[str, Any]) -> ShipmentProgress:
    def instant(name: str) -> datetime | None:
        value = data.get(name)
        return datetime.fromisoformat(value) if value is not None else None

    shipped_at = instant("shipped_at")
    assert shipped_at is not None
    return ShipmentProgress(
        mode=data["mode"],
        carrier_program=data["carrier_program"],
        origin=data["origin"],
        destination_fc=data["destination_fc"],
        shipped_at=shipped_at,
        last_milestone=data["last_milestone"],
        last_milestone_at=instant("last_milestone_at"),
        carrier_eta=instant("carrier_eta"),
        delivered_at=instant("delivered_at"),
        tracking_validated=data["tracking_validated"],
        milestones_reached=tuple(
            (name, datetime.fromisoformat(at)) for name, at in data["milestones_reached"]
        ),
        fc_backlog=data["fc_backlog"],
        fc_deliveries_7d=data["fc_deliveries_7d"],
        fc_arrivals=None if data.get("fc_arrivals") is None else tuple(data["fc_arrivals"]),
        carrier=data["carrier"],
        first_carrier_eta=instant("first_carrier_eta"),
        # Absent from snapshots stored before these fields were.
        fc_backlog_at_delivery=data.get("fc_backlog_at_delivery"),
        fc_deliveries_7d_at_delivery=data.get("fc_deliveries_7d_at_delivery"),
    )


def closed_of(
    shipment: ShipmentRow,
    shipped: int,
    received: int,
    events: Sequence[TrackingEventRow] = (),
) -> ClosedShipment | None:
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
        shipment_id=shipment.id,
        carrier=shipment.carrier,
        created_at=shipment.created_at,
        events=tuple(
            HistoryEvent(type=e.type, occurred_at=e.occurred_at, carrier_eta=e.carrier_eta)
            for e in sorted(events, key=lambda e: e.occurred_at)
            if e.type in MILESTONES
        ),
    )


def estimate_of(shipment: ShipmentRow) -> InStockEstimate | None:
    return InStockEstimate.from_dict(shipment.estimate) if shipment.estimate else None


def promise_of(order: OrderRow) -> Promise:
    return Promise.from_dict(order.promise)


def first_promise_of(order: OrderRow) -> Promise:
    return Promise.from_dict(order.first_promise)
