"""What the estimator is told about shipments: one in flight, and closed ones as history.

Both are reduced views of the stored shipment (DESIGN.md sections 4 and 5), so the
estimator never depends on how shipments are stored. They validate themselves on
construction: an estimate built on an unknown mode or a naive timestamp would be
a confident answer to the wrong question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from headstart.domain.estimate.errors import InvalidEstimateInput
from headstart.domain.estimate.instants import to_utc

MODES: tuple[str, ...] = ("parcel", "ltl", "ftl", "air", "ocean")
CARRIER_PROGRAMS: tuple[str, ...] = (
    "partnered_carrier",
    "marketplace_freight",
    "global_logistics",
    "own_carrier",
)
# Tracking event types, DESIGN.md section 5 (extend only by adding).
MILESTONES: tuple[str, ...] = (
    "booked",
    "departed_origin",
    "arrived_port",
    "customs_released",
    "in_transit",
    "out_for_delivery",
    "delayed",
    "eta_update",
    "delivered",
    "checked_in",
    "receiving_started",
    "exception",
)
# Milestones that can only happen once the freight is at the FC: seeing one proves
# delivery even if the "delivered" event itself never arrived.
AT_FC_MILESTONES: frozenset[str] = frozenset({"delivered", "checked_in", "receiving_started"})


def _require_known(name: str, value: str, known: tuple[str, ...]) -> None:
    if value not in known:
        raise InvalidEstimateInput(
            f"unknown {name} {value!r}", {"field": name, "value": value, "known": list(known)}
        )


@dataclass(frozen=True)
class ShipmentProgress:
    """What is known about one shipment now; every instant is normalised to UTC."""

    mode: str
    carrier_program: str
    origin: str
    destination_fc: str
    shipped_at: datetime
    last_milestone: str | None
    last_milestone_at: datetime | None
    carrier_eta: datetime | None
    delivered_at: datetime | None
    # R2a: own-carrier ids not yet validated by a carrier lower the estimate's confidence.
    tracking_validated: bool = True
    # Optional context for the milestone model (section 4); every caller may leave it out.
    # Each milestone reached so far with the first instant it was reached, so a late
    # "in_transit" scan after berthing does not look like a ship still at sea.
    milestones_reached: tuple[tuple[str, datetime], ...] = ()
    # The destination FC's receiving load now: shipments delivered to it and not yet in
    # stock, and shipments delivered to it in the 7 days before now.
    fc_backlog: int | None = None
    fc_deliveries_7d: int | None = None
    carrier: str = ""
    # The carrier's first ETA for this shipment: how far the latest one has slipped from it.
    first_carrier_eta: datetime | None = None
    # Shipments in transit to the destination FC now, by day they are expected there (day 0:
    # the next 24 h; ``inbound.inbound_counts``): the load this one will meet on arrival.
    fc_arrivals: tuple[int, ...] | None = None
    # The destination FC's backlog and deliveries in the 7 days before, when this shipment
    # was delivered (itself included): the load its receiving met, as the model's receiving
    # pools were normalised. The load now says less about a receipt already in the queue.
    # None: not delivered, or not known.
    fc_backlog_at_delivery: int | None = None
    fc_deliveries_7d_at_delivery: int | None = None

    def __post_init__(self) -> None:
        _require_known("mode", self.mode, MODES)
        _require_known("carrier_program", self.carrier_program, CARRIER_PROGRAMS)
        if self.last_milestone is not None:
            _require_known("last_milestone", self.last_milestone, MILESTONES)
        reached = []
        for name, at in self.milestones_reached:
            _require_known("milestone", name, MILESTONES)
            reached.append((name, to_utc("milestones_reached", at)))
        object.__setattr__(self, "milestones_reached", tuple(reached))
        if self.fc_arrivals is not None:
            object.__setattr__(self, "fc_arrivals", tuple(int(n) for n in self.fc_arrivals))
            if any(n < 0 for n in self.fc_arrivals):
                raise InvalidEstimateInput("fc_arrivals counts cannot be negative")
        counts = (
            self.fc_backlog,
            self.fc_deliveries_7d,
            self.fc_backlog_at_delivery,
            self.fc_deliveries_7d_at_delivery,
        )
        if any(n is not None and n < 0 for n in counts):
            raise InvalidEstimateInput(
                "fc_backlog, fc_deliveries_7d and their values at delivery cannot be negative"
            )
        if (self.last_milestone is None) != (self.last_milestone_at is None):
            raise InvalidEstimateInput(
                "last_milestone and last_milestone_at are given together or not at all"
            )
        for name in (
            "shipped_at",
            "last_milestone_at",
            "carrier_eta",
            "delivered_at",
            "first_carrier_eta",
        ):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, to_utc(name, value))

    @property
    def arrived_at(self) -> datetime | None:
        """When the freight reached the FC, as far as the events tell.

        ``delivered_at`` when the "delivered" event came; otherwise the time of a
        later at-FC milestone (checked_in, receiving_started), because a shipment
        being checked in has certainly been delivered, and treating it as still in
        transit would double count the remaining transit.
        """
        if self.delivered_at is not None:
            return self.delivered_at
        if self.last_milestone in AT_FC_MILESTONES:
            return self.last_milestone_at
        return None


@dataclass(frozen=True)
class HistoryEvent:
    """One tracking event of a closed shipment (DESIGN.md section 5 vocabulary)."""

    type: str
    occurred_at: datetime
    carrier_eta: datetime | None = None

    def __post_init__(self) -> None:
        _require_known("event type", self.type, MILESTONES)
        object.__setattr__(self, "occurred_at", to_utc("occurred_at", self.occurred_at))
        if self.carrier_eta is not None:
            object.__setattr__(self, "carrier_eta", to_utc("carrier_eta", self.carrier_eta))


@dataclass(frozen=True)
class ClosedShipment:
    """One closed shipment of history: the JSONL line of DESIGN.md section 4.

    The trailing fields are optional so the service can hand over what it stores;
    an imported or generated history fills them all.
    """

    mode: str
    carrier_program: str
    origin: str
    destination_fc: str
    shipped_at: datetime
    delivered_at: datetime | None
    in_stock_at: datetime
    quantity_shipped: int
    quantity_received: int
    shipment_id: str = ""
    carrier: str = ""
    created_at: datetime | None = None
    events: tuple[HistoryEvent, ...] = ()

    def __post_init__(self) -> None:
        _require_known("mode", self.mode, MODES)
        _require_known("carrier_program", self.carrier_program, CARRIER_PROGRAMS)
        for name in ("shipped_at", "delivered_at", "in_stock_at", "created_at"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, to_utc(name, value))
        if self.in_stock_at < self.shipped_at:
            raise InvalidEstimateInput("in_stock_at is before shipped_at")
        if self.delivered_at is not None and not (
            self.shipped_at <= self.delivered_at <= self.in_stock_at
        ):
            raise InvalidEstimateInput("delivered_at must lie between shipped_at and in_stock_at")
        if self.quantity_shipped < 0 or self.quantity_received < 0:
            raise InvalidEstimateInput("quantities cannot be negative")
