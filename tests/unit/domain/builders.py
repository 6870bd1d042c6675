"""Builders for the pure domain's tests: FCs, estimates, lots, supply.

Every test states the facts it depends on; these only fill in the rest with
values that do not matter to it. The calendar used throughout is June 2025
(no DST change in either zone): Monday 2 June .. Friday 6 June, a weekend,
Monday 9 June.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from headstart.domain.atp import Entry
from headstart.domain.calendar import FulfillmentCenter
from headstart.domain.enrollment import Enrollment
from headstart.domain.estimate.distribution import LEVELS, InStockEstimate
from headstart.domain.placement import Quote, SkuAtFc, SkuSupply
from headstart.domain.policy import Policy
from headstart.domain.promise import Promise
from headstart.domain.supply import InboundLot, Participation, ShipmentFacts, build_lot

SKU = "SKU-1"
POLICY = Policy()
PARTICIPATES = Participation(participates=True, reasons=())

MON = date(2025, 6, 2)
TUE = date(2025, 6, 3)
WED = date(2025, 6, 4)
THU = date(2025, 6, 5)
FRI = date(2025, 6, 6)
SAT = date(2025, 6, 7)
SUN = date(2025, 6, 8)
NEXT_MON = date(2025, 6, 9)
NEXT_TUE = date(2025, 6, 10)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def fc_los_angeles(**overrides: object) -> FulfillmentCenter:
    values: dict[str, object] = {
        "code": "LAX1",
        "time_zone": "America/Los_Angeles",
        "region": "us-west",
        "handling_days": 1,
        "cutoff_local_time": time(14, 0),
        "holidays": frozenset(),
        "outbound_transit_days": {"us-west": 2, "us-east": 5},
    }
    values.update(overrides)
    return FulfillmentCenter(**values)  # type: ignore[arg-type]


def fc_new_york(**overrides: object) -> FulfillmentCenter:
    values: dict[str, object] = {
        "code": "JFK1",
        "time_zone": "America/New_York",
        "region": "us-east",
        "handling_days": 1,
        "cutoff_local_time": time(14, 0),
        "holidays": frozenset(),
        "outbound_transit_days": {"us-east": 1, "us-west": 5},
    }
    values.update(overrides)
    return FulfillmentCenter(**values)  # type: ignore[arg-type]


def fc_berlin(**overrides: object) -> FulfillmentCenter:
    values: dict[str, object] = {
        "code": "BER1",
        "time_zone": "Europe/Berlin",
        "region": "eu-central",
        "handling_days": 1,
        "cutoff_local_time": time(14, 0),
        "holidays": frozenset(),
        "outbound_transit_days": {"eu-central": 1},
    }
    values.update(overrides)
    return FulfillmentCenter(**values)  # type: ignore[arg-type]


def local(fc: FulfillmentCenter, day: date, at: time = time(12, 0)) -> datetime:
    """The instant it is ``at`` on ``day`` at ``fc``."""
    return datetime.combine(day, at, tzinfo=fc.zone)


# ---------------------------------------------------------------- estimates


def estimate_from_hours(
    now: datetime, hours: tuple[float, ...], *, basis: str = "history"
) -> InStockEstimate:
    return InStockEstimate(
        computed_at=now,
        model_version="test-model-1",
        basis=basis,
        history_count=100 if basis == "history" else 0,
        hours=hours,
    )


def estimate_between(
    now: datetime, low_hours: float, high_hours: float, *, basis: str = "history"
) -> InStockEstimate:
    """Remaining hours spread linearly over ``LEVELS``, from ``low_hours`` to ``high_hours``.

    ``low_hours == high_hours`` gives a point estimate: every quantile is that instant.
    """
    last = len(LEVELS) - 1
    hours = tuple(low_hours + (high_hours - low_hours) * i / last for i in range(len(LEVELS)))
    return estimate_from_hours(now, hours, basis=basis)


def estimate_steps(
    now: datetime, steps: Mapping[float, float], *, basis: str = "history"
) -> InStockEstimate:
    """A step-shaped estimate: each level gets the hours of the first step at or above it.

    ``{0.90: 48, 0.999: 96}`` is in stock within 48 h with probability 0.90 and
    within 96 h at every level above (so exactly at 0.90, 0.97 and 0.99).
    """
    knots = sorted(steps.items())
    hours = tuple(next((h for level, h in knots if level >= p), knots[-1][1]) for p in LEVELS)
    return estimate_from_hours(now, hours, basis=basis)


def hours_until(now: datetime, instant: datetime) -> float:
    return max(0.0, (instant - now) / timedelta(hours=1))


# ---------------------------------------------------------------- lots and supply


def lot(
    fc: FulfillmentCenter,
    estimate: InStockEstimate,
    quantity: int,
    now: datetime,
    *,
    shipment_id: str = "S-1",
    participation: Participation = PARTICIPATES,
    policy: Policy = POLICY,
) -> InboundLot:
    return build_lot(
        shipment_id=shipment_id,
        sku=SKU,
        fc=fc,
        quantity=quantity,
        participation=participation,
        estimate=estimate,
        policy=policy,
        now=now,
    )


def lot_in_stock_on(
    fc: FulfillmentCenter,
    day: date,
    quantity: int,
    now: datetime,
    *,
    keep_on: date | None = None,
    shipment_id: str = "S-1",
    participation: Participation = PARTICIPATES,
    policy: Policy = POLICY,
) -> InboundLot:
    """A lot whose q-quantile falls at noon on ``day`` at ``fc`` (its q_low one on ``keep_on``)."""
    promise_hours = hours_until(now, local(fc, day))
    keep_hours = hours_until(now, local(fc, keep_on or day))
    estimate = estimate_steps(now, {0.90: keep_hours, 0.999: promise_hours})
    return lot(
        fc,
        estimate,
        quantity,
        now,
        shipment_id=shipment_id,
        participation=participation,
        policy=policy,
    )


def at_fc(
    fc: FulfillmentCenter,
    *,
    on_hand: int = 0,
    lots: tuple[InboundLot, ...] = (),
    demand: tuple[Entry, ...] = (),
) -> SkuAtFc:
    return SkuAtFc(fc=fc, on_hand=on_hand, lots=lots, demand=demand)


def sku_supply(
    *at_fcs: SkuAtFc, excluded: bool = False, cap: int | None = None, suppressed: bool = False
) -> SkuSupply:
    return SkuSupply(sku=SKU, at_fcs=at_fcs, excluded=excluded, cap=cap, suppressed=suppressed)


# ---------------------------------------------------------------- shipments, sellers, promises


def shipment(
    created_at: datetime,
    *,
    carrier_program: str = "partnered_carrier",
    status: str = "in_transit",
    tracking_validated: bool = True,
    shipped_at: datetime | None = None,
) -> ShipmentFacts:
    return ShipmentFacts(
        shipment_id="S-1",
        created_at=created_at,
        carrier_program=carrier_program,
        status=status,
        tracking_validated=tracking_validated,
        shipped_at=shipped_at,
    )


def enrolled_since(start: datetime) -> Enrollment:
    return Enrollment().enroll(start)


def promise_at(
    fc: FulfillmentCenter, in_stock: date, ship: date, delivery: date, confidence: float = 0.97
) -> Promise:
    return Promise(
        fc=fc.code,
        promised_in_stock_date=in_stock,
        promised_ship_date=ship,
        promised_delivery_date=delivery,
        confidence=confidence,
    )


def in_stock_date_of(offer: Quote) -> date | None:
    """The promised in-stock date of a quote, or None when it is not buyable."""
    return None if offer.promise is None else offer.promise.promised_in_stock_date
