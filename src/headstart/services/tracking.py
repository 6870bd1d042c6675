"""Tracking events: idempotent by ``event_id``; each one re-estimates its shipment (R9, R10)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from headstart.domain.errors import NotFound
from headstart.services.estimation import EstimatorCache
from headstart.services.fc_load import fc_loads, load_at
from headstart.services.policy import load_policy
from headstart.services.refresh import refresh_skus
from headstart.services.reported_time import ensure_not_future
from headstart.services.shipments import reestimate
from headstart.store.tables import ShipmentLineRow, ShipmentRow, TrackingEventRow
from headstart.store.uow import UnitOfWork

MOVING = frozenset(
    {"departed_origin", "arrived_port", "customs_released", "in_transit", "out_for_delivery"}
)
STATUS_OF_EVENT = {
    **dict.fromkeys(MOVING | {"delayed", "eta_update"}, "in_transit"),
    "delivered": "delivered",
    "checked_in": "checked_in",
    "receiving_started": "receiving",
}
STATUS_RANK = {
    "working": 0,
    "shipped": 1,
    "in_transit": 2,
    "delivered": 3,
    "checked_in": 4,
    "receiving": 5,
}
# Events that prove the freight physically moved.
PHYSICAL = MOVING | {"delivered", "checked_in", "receiving_started"}
# Information about a shipment, not a place it reached: they never become the milestone.
NOT_MILESTONES = frozenset({"delayed", "eta_update", "exception"})
FINAL = frozenset({"closed", "cancelled"})


@dataclass(frozen=True)
class TrackingEvent:
    event_id: str
    shipment_id: str
    type: str
    occurred_at: datetime
    location: str | None = None
    carrier_eta: datetime | None = None
    reason: str | None = None  # for exceptions: lost, damaged, refused


# Told the events a batch recorded and the clock it read, once the batch committed: how
# the API and the worker measure tracking-event lag (issue 8) without this module knowing.
AppliedHook = Callable[[Sequence[TrackingEvent], datetime], None]


def ingest_events(
    uow: UnitOfWork,
    estimators: EstimatorCache,
    events: list[TrackingEvent],
    *,
    on_applied: AppliedHook | None = None,
) -> dict[str, Any]:
    """Apply a batch atomically: an unknown shipment rejects the whole batch."""
    with uow:
        now = uow.now()
        for event in events:
            ensure_not_future("occurred_at", event.occurred_at, now, event_id=event.event_id)
        # Locked before the duplicate check, so concurrent copies of an event queue
        # here and the later ones find it recorded (R8-style exactly-once).
        wanted = {event.shipment_id for event in events}
        shipments = uow.lock_shipments(wanted)
        for shipment_id in sorted(wanted - shipments.keys()):
            raise NotFound(f"no shipment {shipment_id!r}", {"shipment_id": shipment_id})
        seen = set(
            uow.session.scalars(
                select(TrackingEventRow.event_id).where(
                    TrackingEventRow.event_id.in_([event.event_id for event in events])
                )
            )
        )
        # The newest event each shipment has seen, read once and kept current in memory.
        latest: dict[str, datetime] = {
            shipment_id: occurred_at
            for shipment_id, occurred_at in uow.session.execute(
                select(TrackingEventRow.shipment_id, func.max(TrackingEventRow.occurred_at))
                .where(TrackingEventRow.shipment_id.in_(wanted))
                .group_by(TrackingEventRow.shipment_id)
            )
        }
        accepted: list[TrackingEvent] = []
        duplicates: list[str] = []
        touched: set[str] = set()
        for event in sorted(events, key=lambda e: e.occurred_at):
            if event.event_id in seen:
                duplicates.append(event.event_id)
                continue
            seen.add(event.event_id)
            accepted.append(event)
            shipment = shipments[event.shipment_id]
            uow.session.add(
                TrackingEventRow(
                    event_id=event.event_id,
                    shipment_id=event.shipment_id,
                    type=event.type,
                    occurred_at=event.occurred_at,
                    location=event.location,
                    carrier_eta=event.carrier_eta,
                    recorded_at=now,
                )
            )
            newest = latest.get(shipment.id)
            is_latest = newest is None or event.occurred_at >= newest
            if is_latest:
                latest[shipment.id] = event.occurred_at
            if shipment.status not in FINAL:
                apply_event(shipment, event, is_latest=is_latest)
                touched.add(shipment.id)
        uow.session.flush()
        if touched:
            note_load_at_delivery(uow.session, [shipments[s] for s in sorted(touched)])
            estimator = estimators.current(uow.session)
            loads = fc_loads(uow.session, now)
            for shipment_id in sorted(touched):
                reestimate(
                    uow.session, shipments[shipment_id], estimator, now, loads, snapshot=True
                )
            uow.session.flush()
            skus = uow.session.scalars(
                select(ShipmentLineRow.sku).where(ShipmentLineRow.shipment_id.in_(touched))
            ).all()
            refresh_skus(
                uow,
                skus,
                now=now,
                policy=load_policy(uow.session),
                estimator=estimator,
                reason="tracking_event",
            )
        uow.commit()
    if on_applied is not None:
        on_applied(accepted, now)  # outside the transaction: it is committed whatever this does
    return {"accepted": [event.event_id for event in accepted], "duplicates": duplicates}


def note_load_at_delivery(session: Session, shipments: list[ShipmentRow]) -> None:
    """Keep each newly delivered shipment's FC load as of its delivery: the load its
    receiving meets, which its at-FC estimates scale by (section 4), whatever the load is
    by the time they are made. Call once the deliveries are flushed."""
    for shipment in shipments:
        if shipment.delivered_at is not None and shipment.fc_backlog_at_delivery is None:
            backlog, recent = load_at(session, shipment.destination_fc, shipment.delivered_at)
            shipment.fc_backlog_at_delivery = backlog
            shipment.fc_deliveries_7d_at_delivery = recent


def apply_event(shipment: ShipmentRow, event: TrackingEvent, *, is_latest: bool) -> None:
    """Move the shipment forward; late-arriving old events never move it back."""
    shipment.tracking_validated = True  # a carrier reported on these ids (R2a)
    if event.carrier_eta is not None and is_latest:
        shipment.carrier_eta = event.carrier_eta
    if event.carrier_eta is not None and shipment.first_carrier_eta is None:
        shipment.first_carrier_eta = event.carrier_eta
    record_milestone(shipment, event)
    if event.type == "exception":
        shipment.status = "exception"
        shipment.exception_reason = event.reason or "exception"
        return
    if shipment.shipped_at is None and event.type in PHYSICAL:
        shipment.shipped_at = event.occurred_at  # the freight moved, whatever the seller said
    target = STATUS_OF_EVENT.get(event.type)
    if target is not None and shipment.shipped_at is not None:
        if shipment.status == "exception" and is_latest:
            shipment.status = target  # the carrier found it again
            shipment.exception_reason = None
        elif STATUS_RANK.get(shipment.status, 99) < STATUS_RANK[target]:
            shipment.status = target
    if event.type == "delivered" and shipment.delivered_at is None:
        shipment.delivered_at = event.occurred_at
    if event.type not in NOT_MILESTONES and (
        shipment.last_milestone_at is None or event.occurred_at >= shipment.last_milestone_at
    ):
        shipment.last_milestone = event.type
        shipment.last_milestone_at = event.occurred_at


def record_milestone(shipment: ShipmentRow, event: TrackingEvent) -> None:
    """Keep the first instant each milestone was reached (the model's stage, section 4)."""
    if event.type in NOT_MILESTONES:
        return
    reached = dict(shipment.milestones or {})
    first = reached.get(event.type)
    if first is None or event.occurred_at < datetime.fromisoformat(first):
        reached[event.type] = event.occurred_at.isoformat()
        shipment.milestones = reached  # a new dict, so the JSON column is seen as changed
