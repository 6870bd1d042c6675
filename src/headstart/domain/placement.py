"""Where and when a new order for a SKU can be promised (R3, R4, R6, R7, R18).

The same quote answers ``GET /v1/offers`` and order placement, so what a
buyer is shown is exactly what an order would be promised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from headstart.domain.atp import Entry, available_from, cap_supply, earliest_date, slack_curve
from headstart.domain.calendar import FulfillmentCenter
from headstart.domain.policy import Policy
from headstart.domain.promise import Promise, make_promise
from headstart.domain.supply import InboundLot

IN_STOCK = "in_stock"
HEAD_START = "head_start"
NONE = "none"


@dataclass(frozen=True)
class SkuAtFc:
    """Everything R6 needs about one SKU at one FC."""

    fc: FulfillmentCenter
    on_hand: int  # sellable units not yet allocated to an order
    lots: tuple[InboundLot, ...] = ()
    demand: tuple[Entry, ...] = ()  # open head-start orders: (promised in-stock date, units)

    @property
    def head_start_demand(self) -> int:
        return sum(entry.quantity for entry in self.demand)


@dataclass(frozen=True)
class SkuSupply:
    sku: str
    at_fcs: tuple[SkuAtFc, ...]
    excluded: bool = False  # R1a
    cap: int | None = None  # R1a
    suppressed: bool = False  # R4


@dataclass(frozen=True)
class Quote:
    buyable: bool
    source: str
    promise: Promise | None
    available_quantity: int
    reasons: tuple[str, ...]
    inputs: dict[str, object] = field(default_factory=dict)  # R17

    @property
    def buyer_state(self) -> str:
        """R18: a date is only ever shown with confidence."""
        if not self.buyable:
            return "temporarily_out_of_stock"
        return self.source


def supply_entries(
    at_fc: SkuAtFc, supply: SkuSupply, now: datetime, reasons: list[str]
) -> list[Entry]:
    """R6's supply curve for new orders: on-hand now, then counted lots by date."""
    entries = [Entry(at_fc.fc.local_date(now), at_fc.on_hand)] if at_fc.on_hand > 0 else []
    counted = [lot for lot in at_fc.lots if lot.counted]
    for lot in at_fc.lots:
        reasons.extend(lot.reasons)
    if not counted:
        return entries
    inbound = [Entry(lot.in_stock_date, lot.quantity) for lot in counted]
    # Lots keep backing the units already promised here, so closing head start to
    # new orders never hands those orders' lots' units over to the shelf's buyers.
    promised_here = at_fc.head_start_demand
    if supply.excluded or supply.suppressed:
        reasons.append(
            "sku_excluded_by_seller" if supply.excluded else "suppressed_for_late_promises"
        )
        return entries + cap_supply(inbound, promised_here)
    if supply.cap is not None:
        other_fcs = sum(a.head_start_demand for a in supply.at_fcs if a.fc.code != at_fc.fc.code)
        capped = cap_supply(inbound, max(supply.cap - other_fcs, promised_here))
        if sum(e.quantity for e in capped) < sum(e.quantity for e in inbound):
            reasons.append("head_start_cap")
        inbound = capped
    return entries + inbound


def demand_by_day(demand: Sequence[Entry]) -> list[list[object]]:
    """R17's record of the demand: units promised per day, all R6 reads of it (a popular
    SKU's thousands of orders fall on a handful of days)."""
    units: dict[date, int] = {}
    for entry in demand:
        units[entry.day] = units.get(entry.day, 0) + entry.quantity
    return [[day.isoformat(), units[day]] for day in sorted(units)]


def confidence(at_fc: SkuAtFc, in_stock_date: date, *, counted_only: bool = True) -> float:
    """Probability that every lot a promise for ``in_stock_date`` leans on is in stock by then."""
    end = at_fc.fc.end_of_local_day(in_stock_date)
    lots = [
        lot
        for lot in at_fc.lots
        if (lot.counted if counted_only else lot.usable) and lot.in_stock_date <= in_stock_date
    ]
    if not lots:
        return 1.0
    return round(min(lot.estimate.probability_in_stock_by(end) for lot in lots), 4)


def quote(supply: SkuSupply, quantity: int, region: str, policy: Policy, now: datetime) -> Quote:
    """R6/R7: the promise a new order of ``quantity`` units would get, or why none."""
    reasons: list[str] = []
    options: list[tuple[tuple[object, ...], Quote]] = []
    record: dict[str, object] = {"now": now.isoformat(), "policy": policy.to_dict(), "fcs": {}}
    best_available = 0
    supplied = False  # some FC serving the region has units on hand or confidently coming
    for at_fc in supply.at_fcs:
        fc = at_fc.fc
        fc_reasons: list[str] = []
        entries = supply_entries(at_fc, supply, now, fc_reasons)
        today = fc.local_date(now)
        day = earliest_date(entries, at_fc.demand, quantity, today) if quantity > 0 else None
        assert isinstance(record["fcs"], dict)
        record["fcs"][fc.code] = {
            "on_hand": at_fc.on_hand,
            "lots": [lot.to_record() for lot in at_fc.lots],
            "demand": demand_by_day(at_fc.demand),
            "earliest_date": day.isoformat() if day else None,
        }
        reasons.extend(fc_reasons)
        if not fc.serves(region):
            reasons.append("region_not_served")
            continue
        curve = slack_curve(entries, at_fc.demand)
        best_available = max(best_available, curve[-1].value if curve else 0)
        supplied = supplied or any(entry.quantity > 0 for entry in entries)
        if day is None:
            continue
        on_hand = at_fc.on_hand >= quantity and day == today
        certainty = 1.0 if on_hand else confidence(at_fc, day)
        promise = make_promise(fc, day, region, now, confidence=certainty, on_hand=on_hand)
        option = Quote(
            buyable=True,
            source=IN_STOCK if on_hand else HEAD_START,
            promise=promise,
            available_quantity=available_from(entries, at_fc.demand, day),
            reasons=(),
            inputs=record,
        )
        options.append(((promise.promised_delivery_date, not on_hand, fc.code), option))
    if options:
        return min(options, key=lambda pair: pair[0])[1]
    if best_available > 0 and quantity > best_available:
        reasons.append("insufficient_quantity")
    if best_available == 0 and supplied:
        reasons.append("all_supply_promised")  # R6: earlier orders hold every unit
    if not any(a.on_hand > 0 for a in supply.at_fcs):
        reasons.append("no_sellable_stock")
    if not any(lot.counted for a in supply.at_fcs for lot in a.lots):
        reasons.append("no_counted_inbound_supply")
    return Quote(
        buyable=False,
        source=NONE,
        promise=None,
        available_quantity=best_available,
        reasons=tuple(dict.fromkeys(reasons)),
        inputs=record,
    )


def availability_by_fc(supply: SkuSupply, now: datetime) -> list[dict[str, object]]:
    """R16: the region-independent offer per FC: earliest date for one unit, and how many."""
    summary: list[dict[str, object]] = []
    for at_fc in supply.at_fcs:
        entries = supply_entries(at_fc, supply, now, [])
        today = at_fc.fc.local_date(now)
        day = earliest_date(entries, at_fc.demand, 1, today)
        if day is None:
            continue
        on_hand = at_fc.on_hand >= 1 and day == today
        summary.append(
            {
                "fc": at_fc.fc.code,
                "source": IN_STOCK if on_hand else HEAD_START,
                "promised_in_stock_date": day.isoformat(),
                "available_quantity": available_from(entries, at_fc.demand, day),
            }
        )
    return summary


def available_from_state(at_fc: SkuAtFc, supply: SkuSupply, now: datetime) -> int:
    """R13: units a new order could still get from inbound supply at this FC.

    All units that could ever be promised (the final slack of R6) minus those
    the shelf can give today.
    """
    entries = supply_entries(at_fc, supply, now, [])
    curve = slack_curve(entries, at_fc.demand)
    if not curve:
        return 0
    today = at_fc.fc.local_date(now)
    from_shelf = min(at_fc.on_hand, available_from(entries, at_fc.demand, today))
    return max(0, curve[-1].value - from_shelf)
