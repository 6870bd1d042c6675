"""Where a shipment stands: its stage, its phase, and the snapshots a replay sees.

The milestone model conditions on the furthest milestone a shipment has reached
(section 4), not on whichever event came last: carriers repeat "in_transit"
scans, and a scan after berthing says nothing new about the voyage. Events that
carry information rather than a place (``delayed``, ``eta_update``,
``exception``) never change the stage; their ETAs still count.

A closed shipment is turned into the ``ShipmentProgress`` a live service would
have held at any past instant by ``progress_at``: the same function serves the
fit (so the model learns from exactly what it will later be shown) and the
evaluation's replay.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from headstart.domain.estimate.progress import ClosedShipment, ShipmentProgress

SHIPPED = "shipped"  # pseudo-milestone: shipped, no tracking event yet
# Progress order of the milestones; higher is further along. Info events are absent.
RANK: dict[str, int] = {
    "booked": 0,
    SHIPPED: 1,
    "departed_origin": 2,
    "in_transit": 3,
    "arrived_port": 4,
    "customs_released": 5,
    "out_for_delivery": 6,
    "delivered": 7,
    "checked_in": 8,
    "receiving_started": 9,
}
AT_FC_RANK = RANK["delivered"]
BERTHED = frozenset({"arrived_port", "customs_released"})
PHASES: tuple[str, ...] = ("en_route", "berthed", "at_fc")


def lane_of(origin: str, destination_fc: str) -> str:
    return f"{origin}>{destination_fc}"


def slip_of(eta: datetime, first_eta: datetime | None) -> str:
    """``slipped`` when the carrier's ETA has moved more than half a day past its first."""
    if first_eta is not None and (eta - first_eta).total_seconds() > 12 * 3600:
        return "slipped"
    return "kept"


def stage_of(progress: ShipmentProgress) -> tuple[str, datetime]:
    """The furthest milestone reached and when it was first reached (never before shipping)."""
    best, best_at = SHIPPED, progress.shipped_at
    reached = progress.milestones_reached or (
        ((progress.last_milestone, progress.last_milestone_at),)
        if progress.last_milestone is not None and progress.last_milestone_at is not None
        else ()
    )
    for name, at in reached:
        rank = RANK.get(name)
        if rank is not None and rank > RANK[best]:
            best, best_at = name, at
    if progress.delivered_at is not None and RANK[best] < AT_FC_RANK:
        best, best_at = "delivered", progress.delivered_at
    return best, best_at


def phase_of(progress: ShipmentProgress) -> str:
    """``at_fc`` once delivered, ``berthed`` once at the destination port, else ``en_route``."""
    stage, _ = stage_of(progress)
    if RANK[stage] >= AT_FC_RANK:
        return "at_fc"
    names = {name for name, _ in progress.milestones_reached}
    if progress.last_milestone is not None:
        names.add(progress.last_milestone)
    return "berthed" if names & BERTHED else "en_route"


def snapshot_times(shipment: ClosedShipment) -> list[datetime]:
    """The instants a live service re-estimated this shipment: shipping, then each event.

    Only instants from shipping (when it becomes inbound supply) up to, not
    including, the moment it came into stock; several events at one instant
    make one snapshot.
    """
    times = {shipment.shipped_at}
    times.update(
        e.occurred_at
        for e in shipment.events
        if shipment.shipped_at <= e.occurred_at < shipment.in_stock_at
    )
    return sorted(t for t in times if t < shipment.in_stock_at)


@dataclass(frozen=True)
class Snapshot:
    """What ``stage_of(progress_at(shipment, at))`` and the latest ETA give, in one pass."""

    at: datetime
    stage: str
    stage_at: datetime
    carrier_eta: datetime | None
    first_carrier_eta: datetime | None


def walk(shipment: ClosedShipment) -> Iterator[Snapshot]:
    """Each snapshot of ``snapshot_times`` with its stage and ETA, without building progress."""
    events = sorted(shipment.events, key=lambda e: e.occurred_at)
    i = 0
    stage, stage_at = SHIPPED, shipment.shipped_at
    eta: datetime | None = None
    first_eta: datetime | None = None
    delivered = shipment.delivered_at
    for at in snapshot_times(shipment):
        while i < len(events) and events[i].occurred_at <= at:
            event = events[i]
            i += 1
            if event.carrier_eta is not None:
                eta = event.carrier_eta
                first_eta = first_eta or eta
            rank = RANK.get(event.type)
            if rank is not None and rank > RANK[stage]:
                stage, stage_at = event.type, event.occurred_at
        if delivered is not None and delivered <= at and RANK[stage] < AT_FC_RANK:
            stage, stage_at = "delivered", delivered
        yield Snapshot(at, stage, stage_at, eta, first_eta)


def progress_at(
    shipment: ClosedShipment,
    at: datetime,
    *,
    fc_backlog: int | None = None,
    fc_deliveries_7d: int | None = None,
    fc_arrivals: tuple[int, ...] | None = None,
) -> ShipmentProgress:
    """What a live service knew about ``shipment`` at ``at``: events up to and including it."""
    last: tuple[str, datetime] | None = None
    reached: dict[str, datetime] = {}
    eta: datetime | None = None
    first_eta: datetime | None = None
    delivered: datetime | None = None
    for event in sorted(shipment.events, key=lambda e: e.occurred_at):
        if event.occurred_at > at:
            break
        if event.carrier_eta is not None:
            eta = event.carrier_eta
            first_eta = first_eta or eta
        if event.type in RANK:
            reached.setdefault(event.type, event.occurred_at)
            last = (event.type, event.occurred_at)
        if event.type == "delivered" and delivered is None:
            delivered = event.occurred_at
    if delivered is None and shipment.delivered_at is not None and shipment.delivered_at <= at:
        delivered = shipment.delivered_at
    return ShipmentProgress(
        mode=shipment.mode,
        carrier_program=shipment.carrier_program,
        origin=shipment.origin,
        destination_fc=shipment.destination_fc,
        shipped_at=shipment.shipped_at,
        last_milestone=last[0] if last else None,
        last_milestone_at=last[1] if last else None,
        carrier_eta=eta,
        delivered_at=delivered,
        milestones_reached=tuple(reached.items()),
        fc_backlog=fc_backlog,
        fc_deliveries_7d=fc_deliveries_7d,
        fc_arrivals=fc_arrivals,
        carrier=shipment.carrier,
        first_carrier_eta=first_eta,
    )
