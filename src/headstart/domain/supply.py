"""Which inbound supply counts, and how much of it (R2, R2a, R4, R5, R1a)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from headstart.domain.calendar import FulfillmentCenter
from headstart.domain.enrollment import Enrollment
from headstart.domain.estimate import InStockEstimate
from headstart.domain.policy import Policy

ELIGIBLE_PROGRAMS = frozenset({"partnered_carrier", "marketplace_freight", "global_logistics"})
CARRIER_PROGRAMS = ELIGIBLE_PROGRAMS | {"own_carrier"}
MODES = frozenset({"parcel", "ltl", "ftl", "air", "ocean"})
SHIPPED_STATUSES = frozenset({"shipped", "in_transit", "delivered", "checked_in", "receiving"})
SHIPMENT_STATUSES = SHIPPED_STATUSES | {"working", "closed", "cancelled", "exception"}


@dataclass(frozen=True)
class ShipmentFacts:
    """What participation depends on, for one shipment."""

    shipment_id: str
    created_at: datetime
    carrier_program: str
    status: str
    tracking_validated: bool
    shipped_at: datetime | None = None


@dataclass(frozen=True)
class Participation:
    participates: bool
    reasons: tuple[str, ...]


def participation(shipment: ShipmentFacts, enrollment: Enrollment, policy: Policy) -> Participation:
    """R2/R2a: does this shipment's supply count at all? Reasons say why not."""
    reasons: list[str] = []
    if not enrollment.covers(shipment.created_at):
        reasons.append("seller_not_enrolled_when_created")  # R1
    if shipment.carrier_program not in ELIGIBLE_PROGRAMS:
        if shipment.carrier_program != "own_carrier" or not policy.admit_own_carrier:
            reasons.append("carrier_program_not_eligible")
        elif not shipment.tracking_validated:
            reasons.append("own_carrier_tracking_not_validated")  # R2a
    if shipment.status in ("exception", "cancelled"):
        reasons.append(f"shipment_{shipment.status}")
    elif shipment.status == "closed":
        reasons.append("shipment_closed")
    elif shipment.status not in SHIPPED_STATUSES:
        reasons.append("shipment_not_shipped")
    return Participation(participates=not reasons, reasons=tuple(reasons))


def tracking_is_overdue(shipment: ShipmentFacts, policy: Policy, now: datetime) -> bool:
    """R2a: ids still unvalidated a day after shipping lower the estimate's confidence."""
    if shipment.tracking_validated or shipment.shipped_at is None:
        return False
    return now - shipment.shipped_at >= timedelta(hours=policy.unvalidated_tracking_grace_hours)


def head_start_quantity(quantity_shipped: int, quantity_received: int, shrink: Decimal) -> int:
    """R5: ``floor(shipped * (1 - shrink))`` minus what was already received, never negative."""
    expected = (Decimal(quantity_shipped) * (Decimal(1) - shrink)).to_integral_value(ROUND_FLOOR)
    return max(0, int(expected) - quantity_received)


def learned_shrink(shipped: int, received: int, policy: Policy) -> Decimal:
    """R5: the seller's shortfall rate, the default acting as ``shrink_prior_units`` of history."""
    if shipped + policy.shrink_prior_units == 0:
        return policy.default_shrink
    shortfall = max(0, shipped - received)
    prior = policy.default_shrink * policy.shrink_prior_units
    rate = (Decimal(shortfall) + prior) / (Decimal(shipped) + policy.shrink_prior_units)
    return rate.quantize(Decimal("0.0001"))


def is_suppressed(on_time: list[bool], policy: Policy) -> bool:
    """R4: too many recent head-start promises late (judged once 10 have an outcome)."""
    recent = on_time[-policy.on_time_window :]
    if len(recent) < min(10, policy.on_time_window):
        return False
    return sum(recent) / len(recent) < policy.min_on_time_rate


@dataclass(frozen=True)
class InboundLot:
    """One shipment line's head-start supply of a SKU at an FC.

    ``in_stock_date`` is where new promises put the lot (the q-quantile, or the
    wider fallback quantile when history is thin); ``keep_date`` is the
    q_low-quantile date that existing promises are checked against (R9).
    """

    shipment_id: str
    sku: str
    fc: str
    quantity: int
    in_stock_date: date
    keep_date: date
    quantile: float
    counted: bool  # offers new supply (R4)
    usable: bool  # may still serve orders already promised (R10)
    reasons: tuple[str, ...]
    estimate: InStockEstimate

    def to_record(self) -> dict[str, object]:
        """R17: the inputs a decision rests on."""
        return {
            "shipment_id": self.shipment_id,
            "quantity": self.quantity,
            "in_stock_date": self.in_stock_date.isoformat(),
            "keep_date": self.keep_date.isoformat(),
            "quantile": self.quantile,
            "counted": self.counted,
            "reasons": list(self.reasons),
            "model_version": self.estimate.model_version,
            "basis": self.estimate.basis,
            "p50": self.estimate.p50.isoformat(),
            "p97": self.estimate.p97.isoformat(),
        }


@dataclass(frozen=True)
class LotPlacement:
    """Where a shipment's estimate puts its lots on an FC's calendar at some instant."""

    in_stock_date: date  # new promises (the q-quantile, or the fallback quantile)
    keep_date: date  # existing promises are checked against it (q_low, R9)
    quantile: float
    beyond_horizon: bool  # R4: the lot offers nothing new


def place_lot(
    fc: FulfillmentCenter, estimate: InStockEstimate, policy: Policy, now: datetime
) -> LotPlacement:
    """R4/R9: the dates and horizon test every lot of a shipment gets from its estimate."""
    quantile = policy.q if estimate.basis == "history" else policy.fallback_q
    today = fc.local_date(now)
    in_stock_at = estimate.quantile(quantile)
    # A lot is never promised in the past, however stale its estimate.
    in_stock_date = max(today, fc.local_date(in_stock_at))
    keep_date = max(today, min(in_stock_date, fc.local_date(estimate.quantile(policy.q_low))))
    return LotPlacement(
        in_stock_date=in_stock_date,
        keep_date=keep_date,
        quantile=quantile,
        beyond_horizon=in_stock_at > now + timedelta(days=policy.horizon_days),
    )


def is_placement_changed(
    fc: FulfillmentCenter,
    before: InStockEstimate | None,
    after: InStockEstimate,
    policy: Policy,
    now: datetime,
) -> bool:
    """R9/R12: can re-estimating a shipment (``before`` -> ``after``, at ``now``) change any
    offer or promise resting on its lots, since its SKUs were last refreshed?

    Its SKUs were refreshed when ``before`` was stored (at ``before.computed_at``), maybe
    again later. Both dates only move later with time (``max(today, ...)``), so when they
    are the same under ``before`` then and ``after`` now, they were the same at every
    refresh in between. The horizon test flips once with time (a lot comes within H), so
    it must also hold still under ``before`` from then to now.
    """
    if before is None:
        return True
    then = place_lot(fc, before, policy, before.computed_at)
    if then != place_lot(fc, after, policy, now):
        return True
    return place_lot(fc, before, policy, now).beyond_horizon != then.beyond_horizon


def build_lot(
    *,
    shipment_id: str,
    sku: str,
    fc: FulfillmentCenter,
    quantity: int,
    participation: Participation,
    estimate: InStockEstimate,
    policy: Policy,
    now: datetime,
) -> InboundLot:
    """R4: place a lot on the calendar and decide whether it offers new supply."""
    placed = place_lot(fc, estimate, policy, now)
    reasons = list(participation.reasons)
    if quantity <= 0 and participation.participates:
        reasons.append("no_units_left_after_shrink")
    if participation.participates and placed.beyond_horizon:
        reasons.append("beyond_horizon")
    return InboundLot(
        shipment_id=shipment_id,
        sku=sku,
        fc=fc.code,
        quantity=max(0, quantity),
        in_stock_date=placed.in_stock_date,
        keep_date=placed.keep_date,
        quantile=placed.quantile,
        counted=not reasons,
        usable=participation.participates and quantity > 0,
        reasons=tuple(reasons),
        estimate=estimate,
    )
