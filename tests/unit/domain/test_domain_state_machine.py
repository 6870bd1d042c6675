"""Model-based test of the pure domain (issue 7, item 1, the domain half).

Hypothesis drives ``Marketplace`` (tests/unit/domain/marketplace.py: the use cases
of ``services/`` rebuilt from domain calls alone) through random sequences of
enrolments and opt-outs, shipments created, shipped, delayed, lost and found,
delivered, received and closed, orders placed and cancelled, delays confirmed,
stock adjusted, caps and policy changed, and time passing (over the 8 March 2026
DST change at both FCs). After every step it checks:

- R6: at every FC, for every date, the units promised by then never exceed the
  supply existing promises may lean on (on hand, plus usable lots at their q_low
  date: R9's hysteresis);
- R5/R8: a SKU's units sold never exceed the units received plus its capped
  inbound units; no unit appears or vanishes on the shelf;
- R17: every open order has a promise, and its record says which lots at which
  dates, from which model, and the date R6 gave;
- R9: no promise ever moves earlier; every revision and cancellation has its notice
  (R15), and a notice states the new date and a one-step cancellation (R9a);
- R1: a shipment created 72 hours or more after an opt-out confirmation (and
  before any new enrolment) never participates and never backs a promise; one
  created before then keeps participating.

The run is derandomized: CI replays the same sequences; a failure prints its steps.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from headstart.domain.atp import Entry, available_from, is_feasible
from headstart.domain.enrollment import OPT_OUT_NOTICE, EnrollmentState
from headstart.domain.errors import Conflict
from headstart.domain.notifications import opt_out_confirmation
from headstart.domain.placement import supply_entries
from headstart.domain.policy import Policy
from headstart.domain.supply import head_start_quantity, participation
from tests.local_constants import load_every_module
from tests.unit.domain.marketplace import (
    FCS,
    RECEIVABLE,
    REGIONS,
    SKUS,
    Marketplace,
    Shipment,
    estimator,
)

REACHED: Counter[str] = Counter()  # a run that never reached a revision checked little
OPEN = ("promised", "allocated")
DST_CHANGE = datetime(2026, 3, 8, 10, 0, tzinfo=UTC)  # 02:00 PST = 03:00 PDT in Los Angeles


def has_shipments(statuses: frozenset[str]) -> object:
    return lambda self: any(s.status in statuses for s in self.market.shipments.values())


def enrolled(want: bool) -> object:
    return lambda self: (
        (self.market.enrollment.state_at(self.market.now) is EnrollmentState.ENROLLED) is want
    )


class DomainMarketplace(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.market = Marketplace()
        self.enrolments: list[tuple[str, datetime]] = [("enrolled", self.market.now)]
        # Each order's promise as last seen: FC, in-stock date, delivery date (R9).
        self.last_seen: dict[str, tuple[str, date, date]] = {}
        # Stock on its way to both FCs from the start, and buyers already waiting for it,
        # so delays, receipts and closes meet head-start promises from the first step.
        for sku in SKUS:
            self.ship(self.create_shipment(sku, "LAX1", 20, "parcel", "partnered_carrier", True))
            self.ship(self.create_shipment(sku, "JFK1", 20, "ltl", "marketplace_freight", True))
            for quantity, region in ((3, "us-west"), (2, "us-east")):
                self.buyer_orders(sku, quantity, region)

    # ------------------------------------------------------------------ helpers

    def pick(self, data: st.DataObject, statuses: frozenset[str] | None = None) -> Shipment | None:
        ids = sorted(
            s.shipment_id
            for s in self.market.shipments.values()
            if statuses is None or s.status in statuses
        )
        return self.market.shipments[data.draw(st.sampled_from(ids))] if ids else None

    def create_shipment(
        self, sku: str, fc: str, quantity: int, mode: str, program: str, validated: bool
    ) -> Shipment:
        shipment = Shipment(
            shipment_id=f"S{len(self.market.shipments) + 1}",
            sku=sku,
            fc=fc,
            created_at=self.market.now,
            carrier_program=program,
            mode=mode,
            quantity=quantity,
            tracking_validated=validated,
        )
        self.market.shipments[shipment.shipment_id] = shipment
        return shipment

    def ship(self, shipment: Shipment) -> None:
        shipment.status, shipment.shipped_at = "shipped", self.market.now
        shipment.reestimate(self.market.now)
        self.market.refresh("shipped")

    # ------------------------------------------------------------------ steps

    @rule(
        sku=st.sampled_from(SKUS),
        fc=st.sampled_from(sorted(FCS)),
        quantity=st.integers(1, 40),
        mode=st.sampled_from(["parcel", "ltl", "air"]),
        program=st.sampled_from(["partnered_carrier", "marketplace_freight", "own_carrier"]),
        validated=st.booleans(),
        ship_now=st.booleans(),
    )
    def seller_creates_a_shipment(
        self,
        sku: str,
        fc: str,
        quantity: int,
        mode: str,
        program: str,
        validated: bool,
        ship_now: bool,
    ) -> None:
        shipment = self.create_shipment(sku, fc, quantity, mode, program, validated)
        if ship_now:
            self.ship(shipment)

    @precondition(has_shipments(frozenset({"working"})))
    @rule(data=st.data())
    def seller_ships(self, data: st.DataObject) -> None:
        shipment = self.pick(data, frozenset({"working"}))
        if shipment is not None:
            self.ship(shipment)

    @precondition(has_shipments(RECEIVABLE | {"exception"}))
    @rule(
        data=st.data(),
        kind=st.sampled_from(["in_transit", "delayed", "delivered", "exception"]),
        days=st.integers(1, 30),
    )
    def carrier_reports(self, data: st.DataObject, kind: str, days: int) -> None:
        """As ``services/tracking.py``: an exception stops a lot; a later scan finds it again."""
        shipment = self.pick(data, RECEIVABLE | {"exception"})
        if shipment is None:
            return
        now = self.market.now
        shipment.tracking_validated = True  # a carrier reported on these ids (R2a)
        if kind == "exception":
            shipment.status = "exception"
        elif kind == "delayed":
            shipment.carrier_eta = now + timedelta(days=days)
            if shipment.status in ("shipped", "exception"):
                shipment.status = "in_transit"
        elif kind == "delivered" and shipment.delivered_at is None:
            shipment.status, shipment.delivered_at = "delivered", now
            shipment.last_milestone, shipment.last_milestone_at = "delivered", now
        elif shipment.status in ("shipped", "exception"):
            shipment.status = "in_transit"
            shipment.last_milestone, shipment.last_milestone_at = "in_transit", now
        shipment.reestimate(now)
        self.market.refresh(f"tracking:{kind}")

    @rule(sku=st.sampled_from(SKUS), days=st.integers(5, 25))
    def carriers_delay_every_shipment_of(self, sku: str, days: int) -> None:
        """A storm: the SKU's waiting orders must keep (R9), move (R9) or be cancelled (R10)."""
        now = self.market.now
        for shipment in self.market.shipments.values():
            if shipment.sku == sku and shipment.status in RECEIVABLE:
                shipment.carrier_eta = now + timedelta(days=days)
                shipment.reestimate(now)
        self.market.refresh("tracking:delayed")

    @precondition(has_shipments(RECEIVABLE))
    @rule(data=st.data(), share=st.sampled_from([0.25, 0.5, 0.9, 1.0]))
    def fc_receives(self, data: st.DataObject, share: float) -> None:
        shipment = self.pick(data, RECEIVABLE)
        units = int((shipment.quantity - shipment.received) * share) if shipment else 0
        if shipment is None or units <= 0:
            return
        REACHED["orders filled by receipts"] += len(self.market.receive(shipment, units))
        self.market.refresh("units_received")

    @precondition(has_shipments(RECEIVABLE | {"working", "exception"}))
    @rule(data=st.data())
    def fc_closes(self, data: st.DataObject) -> None:
        shipment = self.pick(data, RECEIVABLE | {"working", "exception"})
        if shipment is not None:
            self.market.close(shipment)
            self.market.refresh("shipment_closed")

    @rule(sku=st.sampled_from(SKUS), quantity=st.integers(1, 6), region=st.sampled_from(REGIONS))
    def buyer_orders(self, sku: str, quantity: int, region: str) -> None:
        before = self.market.supply(sku)
        offer, order = self.market.place_order(sku, quantity, region)
        if order is None:
            assert offer.reasons, offer  # R4: every "not buyable" says why
            assert offer.buyer_state == "temporarily_out_of_stock" and offer.promise is None
            return
        promise = order.promise
        at_fc = next(a for a in before.at_fcs if a.fc.code == promise.fc)
        entries = supply_entries(at_fc, before, self.market.now, [])
        # R6/R8: the date given is one at which the units are free from then on.
        assert available_from(entries, at_fc.demand, promise.promised_in_stock_date) >= quantity
        fc = FCS[promise.fc]
        # R7: ship on an operating day after the units are in stock; deliver after transit.
        assert promise.promised_in_stock_date >= fc.local_date(self.market.now)
        assert promise.promised_ship_date >= promise.promised_in_stock_date
        assert fc.is_operating_day(promise.promised_ship_date)
        transit = timedelta(days=fc.outbound_transit_days[region])
        assert promise.promised_delivery_date == promise.promised_ship_date + transit

    @rule(sku=st.sampled_from(SKUS), region=st.sampled_from(REGIONS), size=st.integers(1, 4))
    def a_crowd_buys_until_sold_out(self, sku: str, region: str, size: int) -> None:
        """R6/R8 are exact: the crowd gets every unit that may be promised, and not one more."""
        for _ in range(200):
            if self.market.place_order(sku, size, region)[1] is None:
                break
        REACHED["sell-outs"] += 1

    @precondition(lambda self: any(o.status in OPEN for o in self.market.orders.values()))
    @rule(data=st.data())
    def buyer_cancels(self, data: st.DataObject) -> None:
        ids = sorted(i for i, o in self.market.orders.items() if o.status in OPEN)
        self.market.cancel(self.market.orders[data.draw(st.sampled_from(ids))], "buyer_cancelled")

    @precondition(lambda self: any(o.consent_due for o in self.market.orders.values()))
    @rule(data=st.data())
    def buyer_confirms_a_delay(self, data: st.DataObject) -> None:
        ids = sorted(i for i, o in self.market.orders.items() if o.consent_due is not None)
        if ids:
            self.market.orders[data.draw(st.sampled_from(ids))].consent_due = None
            REACHED["delays confirmed"] += 1

    @rule(sku=st.sampled_from(SKUS), fc=st.sampled_from(sorted(FCS)), delta=st.integers(-5, 8))
    def operator_adjusts_stock(self, sku: str, fc: str, delta: int) -> None:
        if delta == 0 or self.market.sellable.get((sku, fc), 0) + delta < 0:
            return  # the service refuses these (422, 409)
        self.market.adjust(sku, fc, delta)
        self.market.refresh("inventory_adjustment")

    @rule(hours=st.sampled_from([1, 6, 13, 24, 49, 96]))
    def time_passes(self, hours: int) -> None:
        """As ``services/sweeps.py``: expire delays, re-estimate in-flight, re-promise."""
        self.market.now += timedelta(hours=hours)
        self.market.expire_consents()
        for shipment in self.market.shipments.values():
            if shipment.status in RECEIVABLE:
                shipment.reestimate(self.market.now)
        self.market.refresh("time_passed")

    @rule(days=st.integers(1, 4))
    def days_pass(self, days: int) -> None:
        """Whole days at a time, so runs reach promised dates, R9a's deadlines and DST."""
        self.time_passes(24 * days)

    @precondition(enrolled(True))
    @rule(then_hours=st.sampled_from([0, 71, 72, 100]))
    def seller_opts_out(self, then_hours: int) -> None:
        """R1, then (often) the hours up to just before, at, or after the 72 h boundary."""
        market = self.market
        market.enrollment = market.enrollment.opt_out(market.now)
        with pytest.raises(Conflict):  # confirmed at once: a second request is refused
            market.enrollment.opt_out(market.now)
        self.enrolments.append(("opted_out", market.now))
        notice = opt_out_confirmation("seller", "seller@example.com", market.now)
        assert (market.now + OPT_OUT_NOTICE).isoformat() in notice.body  # R1: the e-mail says when
        if then_hours:
            self.time_passes(then_hours)

    @precondition(enrolled(False))
    @rule()
    def seller_enrols_again(self) -> None:
        market = self.market
        market.enrollment = market.enrollment.enroll(market.now)
        with pytest.raises(Conflict):  # enrolled now: enrolling twice is refused
            market.enrollment.enroll(market.now)
        self.enrolments.append(("enrolled", market.now))
        REACHED["re-enrolments"] += 1

    @rule(sku=st.sampled_from(SKUS), excluded=st.booleans(), cap=st.none() | st.integers(0, 30))
    def seller_limits_head_start(self, sku: str, excluded: bool, cap: int | None) -> None:
        self.market.limits[sku] = (excluded, cap)  # R1a: new orders only

    @rule(
        q=st.sampled_from([0.95, 0.97, 0.99]),
        q_low=st.sampled_from([0.8, 0.9]),
        horizon_days=st.sampled_from([7, 21]),
        max_slip_days=st.sampled_from([3, 14]),
        admit_own_carrier=st.booleans(),
    )
    def operator_changes_policy(
        self, q: float, q_low: float, horizon_days: int, max_slip_days: int, admit_own_carrier: bool
    ) -> None:
        self.market.policy = Policy(
            q=q,
            q_low=q_low,
            horizon_days=horizon_days,
            max_slip_days=max_slip_days,
            admit_own_carrier=admit_own_carrier,
        )
        self.market.refresh("policy_changed")

    # ------------------------------------------------------------------ invariants

    def teardown(self) -> None:
        """Count what this run reached, once (the invariants run after every step)."""
        market = self.market
        for order in market.orders.values():
            REACHED[f"{order.source} orders"] += 1
            REACHED["revisions"] += sum(1 for _, new, _ in order.revisions if new is not None)
            if order.cancel_reason is not None:
                REACHED[f"cancelled: {order.cancel_reason}"] += 1
        REACHED["shipments created while opted out"] += sum(
            1 for s in market.shipments.values() if not self._covered(s.created_at)
        )
        REACHED["runs past the DST change"] += market.now >= DST_CHANGE
        REACHED["runs"] += 1

    @invariant()
    def r6_promised_units_never_exceed_supply_at_any_date(self) -> None:
        REACHED["states checked"] += 1
        market = self.market
        for sku in SKUS:
            for code, fc in FCS.items():
                on_hand = market.sellable.get((sku, code), 0)
                supply = [Entry(fc.local_date(market.now), on_hand)] if on_hand > 0 else []
                supply += [
                    Entry(lot.keep_date, lot.quantity)
                    for lot in market.lots(sku, code)
                    if lot.usable
                ]
                demand = [
                    Entry(o.promise.promised_in_stock_date, o.quantity)
                    for o in market.waiting(sku, code)
                ]
                assert is_feasible(supply, demand), (sku, code, supply, demand)

    @invariant()
    def r5_units_sold_never_exceed_units_received_plus_capped_inbound(self) -> None:
        market = self.market
        for sku in SKUS:
            sold = sum(
                o.quantity for o in market.orders.values() if o.sku == sku and o.status in OPEN
            )
            usable = {lot.shipment_id for c in FCS for lot in market.lots(sku, c) if lot.usable}
            inbound = sum(  # R5: floor(shipped x (1 - shrink)) - received, of what still counts
                head_start_quantity(s.quantity, s.received, market.shrink)
                for s in market.shipments.values()
                if s.shipment_id in usable
            )
            received = market.units_in.get(sku, 0)
            assert sold <= received + inbound, (sku, sold, received, inbound)
            on_shelf = sum(
                market.sellable.get((sku, c), 0) + market.allocated.get((sku, c), 0) for c in FCS
            )
            assert on_shelf == received, (sku, on_shelf, received)  # no unit appears or vanishes
            for code in FCS:
                allocated = sum(
                    o.quantity
                    for o in market.orders.values()
                    if (o.sku, o.promise.fc, o.status) == (sku, code, "allocated")
                )
                assert market.allocated.get((sku, code), 0) == allocated
                assert market.sellable.get((sku, code), 0) >= 0

    @invariant()
    def r17_every_open_order_has_a_promise_and_its_basis(self) -> None:
        version = estimator().version
        for order in self.market.orders.values():
            if order.status not in OPEN:
                continue
            assert order.promise is not None
            record = order.record
            assert record["policy"] and record["now"]
            at_fc = record["fcs"][order.first_promise.fc]  # type: ignore[index]
            assert at_fc["earliest_date"] == order.first_promise.promised_in_stock_date.isoformat()
            if order.source == "head_start":
                assert at_fc["lots"], record
            for lot in at_fc["lots"]:
                assert lot["model_version"] == version and lot["basis"] in ("history", "prior")
            for _, _, inputs in order.revisions:
                assert inputs["policy"] and inputs["reason"] and inputs["lots"]

    @invariant()
    def r9_no_promise_moves_earlier_and_every_change_is_told(self) -> None:
        notices = Counter(
            (n.kind, n.payload["order_id"]) for n in self.market.outbox if "order_id" in n.payload
        )
        for order in self.market.orders.values():
            promise = order.promise
            seen = self.last_seen.get(order.order_id)
            if seen is not None:
                fc, in_stock, delivery = seen
                assert promise.promised_delivery_date >= delivery, order
                if fc == promise.fc:
                    assert promise.promised_in_stock_date >= in_stock, order
            self.last_seen[order.order_id] = (
                promise.fc,
                promise.promised_in_stock_date,
                promise.promised_delivery_date,
            )
            revised = sum(1 for _, new, _ in order.revisions if new is not None)
            cancelled = sum(1 for _, new, _ in order.revisions if new is None)
            assert notices[("delay_notice", order.order_id)] == revised  # R15
            assert notices[("order_cancelled", order.order_id)] == cancelled
        for notice in self.market.outbox:
            if notice.kind == "delay_notice":  # R9a: the new date and a one-step way out
                new = notice.payload["new"]
                assert new["promised_delivery_date"] in notice.body  # type: ignore[index]
                assert notice.payload["cancel_path"] in notice.body  # type: ignore[operator]

    @invariant()
    def r1_shipments_created_72h_after_an_opt_out_never_participate(self) -> None:
        market = self.market
        lots_of = {(sku, c): market.lots(sku, c) for sku in SKUS for c in FCS}
        for shipment in market.shipments.values():
            reasons = participation(shipment.facts(), market.enrollment, market.policy).reasons
            covered = self._covered(shipment.created_at)
            # Shipments created before t_c + 72 h keep participating; later ones never do.
            assert ("seller_not_enrolled_when_created" not in reasons) == covered, shipment
            if covered:
                continue
            lots = [
                lot
                for lot in lots_of[shipment.sku, shipment.fc]
                if lot.shipment_id == shipment.shipment_id
            ]
            assert not any(lot.usable or lot.counted for lot in lots), lots
            for order in market.orders.values():
                recorded = order.record["fcs"][order.first_promise.fc]["lots"]  # type: ignore[index]
                counted = {lot["shipment_id"] for lot in recorded if lot["counted"]}
                assert shipment.shipment_id not in counted, order

    def _covered(self, created_at: datetime) -> bool:
        """R1 read off the log: each enrolment covers from its instant until 72 h after
        the opt-out confirmed next (or for good)."""
        periods: list[list[datetime | None]] = []
        for kind, at in self.enrolments:
            if kind == "enrolled":
                periods.append([at, None])
            else:
                periods[-1][1] = at + OPT_OUT_NOTICE
        return any(
            start is not None and start <= created_at and (end is None or created_at < end)
            for start, end in periods
        )


@pytest.mark.slow
@pytest.mark.parametrize(
    "runs",
    [
        pytest.param(60, id="60-runs"),
        pytest.param(600, id="600-runs", marks=[pytest.mark.long, pytest.mark.timeout(1500)]),
    ],
)
def test_r1_r5_r6_r9_r17_hold_after_every_step_of_random_marketplaces(runs: int) -> None:
    REACHED.clear()
    load_every_module()  # the same sequences however the test is run
    run_state_machine_as_test(
        DomainMarketplace,
        settings=settings(
            max_examples=runs,
            stateful_step_count=40,
            deadline=None,
            derandomize=True,  # the same sequences every run, in CI too
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    # The figures RELIABILITY.md quotes (run with -s to see them).
    print(f"\ndomain model: {dict(sorted(REACHED.items()))}, 0 invariant violations")
    # The runs reached what the invariants are about: promises, slips and an opt-out.
    for what in ("head_start orders", "in_stock orders", "revisions", "cancelled: no_supply"):
        assert REACHED[what], REACHED
    assert REACHED["shipments created while opted out"], REACHED
    assert REACHED["runs past the DST change"], REACHED
