"""A whole marketplace built from the pure domain alone, for the model-based test.

Each method does what one use case in ``services/`` does, with plain objects instead
of rows: the same domain calls (``participation``, ``build_lot``, ``quote``,
``plan_repromise``, ``fill_waiting_orders``, ``learned_shrink``, the notices), in
the same order, and a re-promise of every SKU after each change of supply, as
``refresh_skus`` does. What the domain decides is kept exactly as decided, so the
invariants the test checks are the domain's and not this file's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from functools import cache

from headstart.domain import notifications
from headstart.domain.atp import Entry
from headstart.domain.calendar import FulfillmentCenter
from headstart.domain.enrollment import Enrollment
from headstart.domain.estimate import EmpiricalEstimator, InStockEstimate, ShipmentProgress
from headstart.domain.notifications import Notification
from headstart.domain.placement import IN_STOCK, Quote, SkuAtFc, SkuSupply, quote
from headstart.domain.policy import Policy
from headstart.domain.promise import Promise
from headstart.domain.receiving import WaitingForStock, fill_waiting_orders
from headstart.domain.repromise import Cancel, Revise, WaitingOrder, plan_repromise
from headstart.domain.supply import (
    InboundLot,
    ShipmentFacts,
    build_lot,
    head_start_quantity,
    learned_shrink,
    participation,
)

SKUS = ("SKU-A", "SKU-B")
REGIONS = ("us-west", "us-east")
# A Monday, 07:00 in Los Angeles; runs of a few days cross 8 March 2026, when both
# FCs' clocks jump an hour (the dates they promise must not).
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
FCS = {
    "LAX1": FulfillmentCenter(
        code="LAX1",
        time_zone="America/Los_Angeles",
        region="us-west",
        handling_days=1,
        cutoff_local_time=time(14, 0),
        outbound_transit_days={"us-west": 2, "us-east": 5},
    ),
    "JFK1": FulfillmentCenter(
        code="JFK1",
        time_zone="America/New_York",
        region="us-east",
        handling_days=2,
        cutoff_local_time=time(12, 0),
        outbound_transit_days={"us-east": 1, "us-west": 5},
    ),
}
RECEIVABLE = frozenset({"shipped", "in_transit", "delivered", "checked_in", "receiving"})
CONSENT_MINIMUM = timedelta(hours=48)  # services/repromising.py: never less to answer


@cache
def estimator() -> EmpiricalEstimator:
    """The real in-stock model on its prior (no history): fitted once per test session."""
    return EmpiricalEstimator(prior_samples=1000)


@dataclass
class Shipment:
    shipment_id: str
    sku: str
    fc: str
    created_at: datetime
    carrier_program: str
    mode: str
    quantity: int
    tracking_validated: bool
    status: str = "working"
    shipped_at: datetime | None = None
    received: int = 0
    carrier_eta: datetime | None = None
    delivered_at: datetime | None = None
    last_milestone: str | None = None
    last_milestone_at: datetime | None = None
    estimate: InStockEstimate | None = None

    def facts(self) -> ShipmentFacts:
        return ShipmentFacts(
            shipment_id=self.shipment_id,
            created_at=self.created_at,
            carrier_program=self.carrier_program,
            status=self.status,
            tracking_validated=self.tracking_validated,
            shipped_at=self.shipped_at,
        )

    def reestimate(self, now: datetime) -> None:
        """R9/R12: every event, and time passing, re-estimates the in-stock time."""
        assert self.shipped_at is not None
        progress = ShipmentProgress(
            mode=self.mode,
            carrier_program=self.carrier_program,
            origin="CN-SZX",
            destination_fc=self.fc,
            shipped_at=self.shipped_at,
            last_milestone=self.last_milestone,
            last_milestone_at=self.last_milestone_at,
            carrier_eta=self.carrier_eta,
            delivered_at=self.delivered_at,
            tracking_validated=self.tracking_validated,
        )
        self.estimate = estimator().estimate(progress, now)


@dataclass
class Order:
    order_id: str
    sku: str
    quantity: int
    region: str
    seq: int
    source: str
    status: str  # promised | allocated | cancelled
    promise: Promise
    first_promise: Promise
    record: dict[str, object]  # R17: what placement rested on
    slips: int = 0
    consent_due: datetime | None = None
    cancel_reason: str | None = None
    revisions: list[tuple[Promise, Promise | None, dict[str, object]]] = field(
        default_factory=list
    )  # (old, new or None when cancelled, inputs)


@dataclass
class Marketplace:
    """One seller, two SKUs, two FCs; everything else starts empty."""

    now: datetime = START
    policy: Policy = field(default_factory=Policy)
    enrollment: Enrollment = field(default_factory=lambda: Enrollment().enroll(START))
    shipments: dict[str, Shipment] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    sellable: dict[tuple[str, str], int] = field(default_factory=dict)
    allocated: dict[tuple[str, str], int] = field(default_factory=dict)
    units_in: dict[str, int] = field(default_factory=dict)  # received and adjusted, per SKU
    closed_shipped: int = 0
    closed_received: int = 0
    limits: dict[str, tuple[bool, int | None]] = field(default_factory=dict)  # R1a
    outbox: list[Notification] = field(default_factory=list)

    # ------------------------------------------------------------------ state R6 reads

    @property
    def shrink(self) -> Decimal:
        return learned_shrink(self.closed_shipped, self.closed_received, self.policy)

    def lots(self, sku: str, fc: str) -> tuple[InboundLot, ...]:
        """As ``services/sku_state.py``: every shipped, unclosed shipment line of the SKU."""
        return tuple(
            build_lot(
                shipment_id=s.shipment_id,
                sku=sku,
                fc=FCS[fc],
                quantity=head_start_quantity(s.quantity, s.received, self.shrink),
                participation=participation(s.facts(), self.enrollment, self.policy),
                estimate=s.estimate,
                policy=self.policy,
                now=self.now,
            )
            for s in self.shipments.values()
            if s.sku == sku
            and s.fc == fc
            and s.status not in ("closed", "working")
            and s.estimate is not None
        )

    def waiting(self, sku: str, fc: str | None = None) -> list[Order]:
        """Head-start orders waiting for units, in placement order."""
        return sorted(
            (
                o
                for o in self.orders.values()
                if o.sku == sku and o.status == "promised" and fc in (None, o.promise.fc)
            ),
            key=lambda o: o.seq,
        )

    def supply(self, sku: str, *, with_demand: bool = True) -> SkuSupply:
        excluded, cap = self.limits.get(sku, (False, None))
        at_fcs = tuple(
            SkuAtFc(
                fc=FCS[code],
                on_hand=self.sellable.get((sku, code), 0),
                lots=self.lots(sku, code),
                demand=tuple(
                    Entry(o.promise.promised_in_stock_date, o.quantity)
                    for o in self.waiting(sku, code)
                )
                if with_demand
                else (),
            )
            for code in sorted(FCS)
        )
        return SkuSupply(sku=sku, at_fcs=at_fcs, excluded=excluded, cap=cap)

    # ------------------------------------------------------------------ use cases

    def place_order(self, sku: str, quantity: int, region: str) -> tuple[Quote, Order | None]:
        offer = quote(self.supply(sku), quantity, region, self.policy, self.now)
        if not offer.buyable or offer.promise is None:
            return offer, None
        order = Order(
            order_id=f"O{len(self.orders) + 1}",
            sku=sku,
            quantity=quantity,
            region=region,
            seq=len(self.orders),
            source=offer.source,
            status="allocated" if offer.source == IN_STOCK else "promised",
            promise=offer.promise,
            first_promise=offer.promise,
            record=offer.inputs,
        )
        self.orders[order.order_id] = order
        if offer.source == IN_STOCK:
            key = (sku, offer.promise.fc)
            self.sellable[key] -= quantity
            self.allocated[key] = self.allocated.get(key, 0) + quantity
        return offer, order

    def cancel(self, order: Order, reason: str) -> None:
        """The buyer cancels, or R9a/R10 do; allocated units go to waiting orders first."""
        was_allocated = order.status == "allocated"
        self._cancel(order, reason, {})
        if was_allocated:
            key = (order.sku, order.promise.fc)
            self.allocated[key] -= order.quantity
            self.sellable[key] += order.quantity
            self.fill(order.sku, order.promise.fc)

    def fill(self, sku: str, fc: str) -> list[Order]:
        """R11: sellable units go to the orders waiting at this FC first."""
        waiting = self.waiting(sku, fc)
        key = (sku, fc)
        filled = fill_waiting_orders(
            self.sellable.get(key, 0),
            [
                WaitingForStock(o.order_id, o.quantity, o.promise.promised_ship_date, o.seq)
                for o in waiting
            ],
        )
        for order_id in filled.allocated:
            order = self.orders[order_id]
            order.status, order.consent_due = "allocated", None
            self.allocated[key] = self.allocated.get(key, 0) + order.quantity
        self.sellable[key] = filled.sellable
        return [self.orders[i] for i in filled.allocated]

    def receive(self, shipment: Shipment, units: int) -> list[Order]:
        shipment.received += units
        shipment.status = "receiving"
        key = (shipment.sku, shipment.fc)
        self.sellable[key] = self.sellable.get(key, 0) + units
        self.units_in[shipment.sku] = self.units_in.get(shipment.sku, 0) + units
        filled = self.fill(shipment.sku, shipment.fc)
        shipment.reestimate(self.now)
        return filled

    def adjust(self, sku: str, fc: str, delta: int) -> None:
        key = (sku, fc)
        self.sellable[key] = self.sellable.get(key, 0) + delta
        self.units_in[sku] = self.units_in.get(sku, 0) + delta
        if delta > 0:
            self.fill(sku, fc)

    def close(self, shipment: Shipment) -> None:
        """R11/R5: what never arrived stops counting; the shrink rate learns from it."""
        was_shipped = shipment.shipped_at is not None
        shipment.status = "closed" if was_shipped else "cancelled"
        if was_shipped:
            self.closed_shipped += shipment.quantity
            self.closed_received += min(shipment.received, shipment.quantity)

    def expire_consents(self) -> None:
        """R9a: a slip the buyer did not confirm in time cancels the order."""
        for order in list(self.orders.values()):
            if order.status == "promised" and order.consent_due and order.consent_due <= self.now:
                self._cancel(order, "delay_not_confirmed", {})

    def refresh(self, reason: str) -> None:
        """R9/R10: re-promise every SKU's waiting orders, first come first served."""
        for sku in SKUS:
            waiting = self.waiting(sku)
            if not waiting:
                continue
            at_fcs = self.supply(sku, with_demand=False).at_fcs
            inputs: dict[str, object] = {
                "reason": reason,
                "lots": {a.fc.code: [lot.to_record() for lot in a.lots] for a in at_fcs},
                "policy": self.policy.to_dict(),
            }
            plan = plan_repromise(
                [
                    WaitingOrder(
                        o.order_id, o.quantity, o.region, o.promise, o.first_promise, o.slips
                    )
                    for o in waiting
                ],
                at_fcs,
                self.policy,
                self.now,
            )
            for decision in plan:
                order = self.orders[decision.order_id]
                if isinstance(decision, Revise):
                    self._revise(order, decision, inputs)
                elif isinstance(decision, Cancel):
                    self._cancel(order, decision.reason, inputs)

    # ------------------------------------------------------------------ helpers

    def _revise(self, order: Order, decision: Revise, inputs: dict[str, object]) -> None:
        order.revisions.append((decision.old, decision.new, inputs))
        order.promise = decision.new
        order.slips += 1
        if decision.requires_consent:
            due = FCS[decision.old.fc].end_of_local_day(decision.old.promised_ship_date)
            order.consent_due = max(due, self.now + CONSENT_MINIMUM)
        self.outbox.append(
            notifications.delay_notice(
                order.order_id,
                "buyer",
                decision.old,
                decision.new,
                requires_consent=decision.requires_consent,
                seq=order.slips,
                seller_id="seller",
            )
        )

    def _cancel(self, order: Order, reason: str, inputs: dict[str, object]) -> None:
        order.revisions.append((order.promise, None, inputs))
        order.status, order.consent_due, order.cancel_reason = "cancelled", None, reason
        self.outbox.append(
            notifications.order_cancelled(order.order_id, "buyer", reason, seller_id="seller")
        )
