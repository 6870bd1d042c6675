"""Re-promising waiting orders when supply changes (R9, R9a, R10)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from headstart.domain.atp import Entry, earliest_date, is_feasible
from headstart.domain.calendar import FulfillmentCenter
from headstart.domain.placement import SkuAtFc, confidence
from headstart.domain.policy import Policy
from headstart.domain.promise import Promise, make_promise
from headstart.domain.repromise import (
    Cancel,
    Decision,
    Keep,
    Revise,
    WaitingOrder,
    _curve,
    plan_repromise,
    slip_days,
)
from headstart.domain.supply import Participation
from tests.unit.domain.builders import (
    FRI,
    MON,
    NEXT_MON,
    POLICY,
    SUN,
    THU,
    TUE,
    WED,
    at_fc,
    fc_los_angeles,
    fc_new_york,
    local,
    lot_in_stock_on,
)

LA = fc_los_angeles()
NY = fc_new_york()
NOW = local(LA, MON, time(10, 0))
LOST = Participation(False, ("shipment_exception",))
PARTICIPATES_FOR_TEST = Participation(True, ())


def promised(fc: FulfillmentCenter, in_stock: date, *, confidence: float = 0.97) -> Promise:
    return make_promise(fc, in_stock, "us-west", NOW, confidence=confidence, on_hand=False)


def revised_to(fc: FulfillmentCenter, in_stock: date) -> Promise:
    """The new promise; a step-shaped lot is certain by the end of its in-stock day."""
    return promised(fc, in_stock, confidence=1.0)


def waiting(
    order_id: str,
    quantity: int,
    promise: Promise,
    *,
    first: Promise | None = None,
    slips: int = 0,
    region: str = "us-west",
) -> WaitingOrder:
    return WaitingOrder(order_id, quantity, region, promise, first or promise, slips)


ON_THURSDAY = promised(LA, THU)  # ships Friday, delivered Sunday


def test_r9_repromise_keeps_early_orders_and_moves_only_the_later_ones() -> None:
    # given two orders of 5 promised for Thursday; half the supply slipped to next Monday
    lots = (
        lot_in_stock_on(LA, THU, 5, NOW, shipment_id="S-1"),
        lot_in_stock_on(LA, NEXT_MON, 5, NOW, shipment_id="S-2"),
    )
    orders = [waiting("A", 5, ON_THURSDAY), waiting("B", 5, ON_THURSDAY)]
    # when the orders are re-promised in order of placement
    decisions = plan_repromise(orders, [at_fc(LA, lots=lots)], POLICY, NOW)
    # then the first keeps its promise and only the second moves
    assert decisions == [
        Keep("A"),
        Revise("B", ON_THURSDAY, revised_to(LA, NEXT_MON), requires_consent=False),
    ]
    assert promised(LA, NEXT_MON).promised_delivery_date == date(2025, 6, 12)


def test_r9_first_come_first_served_follows_the_order_given() -> None:
    lots = (
        lot_in_stock_on(LA, THU, 5, NOW, shipment_id="S-1"),
        lot_in_stock_on(LA, NEXT_MON, 5, NOW, shipment_id="S-2"),
    )
    orders = [waiting("B", 5, ON_THURSDAY), waiting("A", 5, ON_THURSDAY)]

    decisions = plan_repromise(orders, [at_fc(LA, lots=lots)], POLICY, NOW)

    assert [type(d).__name__ for d in decisions] == ["Keep", "Revise"]
    assert decisions[0] == Keep("B")


def test_r9_hysteresis_lot_still_likely_by_the_promise_keeps_it() -> None:
    # given the lot's q date moved to Friday, past the Thursday promise,
    # while its q_low date (Wednesday) is still before it
    slipped = lot_in_stock_on(LA, FRI, 10, NOW, keep_on=WED)
    orders = [waiting("A", 5, ON_THURSDAY), waiting("B", 5, ON_THURSDAY)]
    # then nobody is re-promised
    assert plan_repromise(orders, [at_fc(LA, lots=(slipped,))], POLICY, NOW) == [
        Keep("A"),
        Keep("B"),
    ]


def test_r9_lot_no_longer_likely_by_the_promise_moves_it_to_the_q_date() -> None:
    slipped = lot_in_stock_on(LA, FRI, 10, NOW, keep_on=FRI)

    decisions = plan_repromise(
        [waiting("A", 5, ON_THURSDAY)], [at_fc(LA, lots=(slipped,))], POLICY, NOW
    )

    assert decisions == [Revise("A", ON_THURSDAY, revised_to(LA, FRI), requires_consent=False)]


def test_r9_lot_arriving_earlier_keeps_the_promise_unchanged() -> None:
    early = lot_in_stock_on(LA, TUE, 10, NOW)

    decisions = plan_repromise(
        [waiting("A", 5, ON_THURSDAY)], [at_fc(LA, lots=(early,))], POLICY, NOW
    )

    assert decisions == [Keep("A")]


def test_r9_revision_never_moves_the_delivery_date_earlier() -> None:
    # given an order promised for next Monday from Los Angeles (delivered Thursday 12 June),
    # whose lot is lost, while New York could deliver by Monday 9 June
    old = promised(LA, NEXT_MON)
    lost = lot_in_stock_on(LA, NEXT_MON, 10, NOW, participation=LOST)
    ny = lot_in_stock_on(NY, TUE, 10, NOW, shipment_id="S-NY")
    # when it is re-sourced
    decisions = plan_repromise(
        [waiting("A", 5, old)], [at_fc(LA, lots=(lost,)), at_fc(NY, lots=(ny,))], POLICY, NOW
    )
    # then it moves to New York, but the buyer's date stays where it was
    assert len(decisions) == 1
    revision = decisions[0]
    assert isinstance(revision, Revise)
    assert revision.new.fc == "JFK1"
    assert revision.new.promised_delivery_date == old.promised_delivery_date == date(2025, 6, 12)
    assert revision.requires_consent is False


# ---------------------------------------------------------------- R9a
# First promised for today (Monday): ships Tuesday, delivered Thursday 5 June.
TODAY = promised(LA, MON)
LENIENT = Policy(max_slip_days=60)


def test_r9a_first_slip_of_exactly_30_days_needs_no_consent() -> None:
    # in stock Wed 2 July, ships Thu 3 July, delivered Sat 5 July: 30 days late
    slipped = lot_in_stock_on(LA, date(2025, 7, 2), 5, NOW)

    [decision] = plan_repromise(
        [waiting("A", 5, TODAY)], [at_fc(LA, lots=(slipped,))], LENIENT, NOW
    )

    assert isinstance(decision, Revise)
    assert decision.new.promised_delivery_date == date(2025, 7, 5)
    assert decision.requires_consent is False


def test_r9a_first_slip_of_31_days_needs_consent() -> None:
    # in stock Thu 3 July, ships Fri 4 July, delivered Sun 6 July: 31 days late
    slipped = lot_in_stock_on(LA, date(2025, 7, 3), 5, NOW)

    [decision] = plan_repromise(
        [waiting("A", 5, TODAY)], [at_fc(LA, lots=(slipped,))], LENIENT, NOW
    )

    assert isinstance(decision, Revise)
    assert decision.new.promised_delivery_date == date(2025, 7, 6)
    assert decision.requires_consent is True


def test_r9a_second_slip_needs_consent_however_small() -> None:
    slipped = lot_in_stock_on(LA, FRI, 5, NOW)
    order = waiting("A", 5, ON_THURSDAY, first=ON_THURSDAY, slips=1)

    [decision] = plan_repromise([order], [at_fc(LA, lots=(slipped,))], POLICY, NOW)

    assert decision == Revise("A", ON_THURSDAY, revised_to(LA, FRI), requires_consent=True)


# ---------------------------------------------------------------- R10


def test_r10_slip_of_exactly_max_slip_days_is_revised() -> None:
    # in stock Mon 16 June, ships Tue 17, delivered Thu 19 June: 14 days past the first promise
    slipped = lot_in_stock_on(LA, date(2025, 6, 16), 5, NOW)

    [decision] = plan_repromise([waiting("A", 5, TODAY)], [at_fc(LA, lots=(slipped,))], POLICY, NOW)

    assert isinstance(decision, Revise)
    assert decision.new.promised_delivery_date == date(2025, 6, 19)


def test_r10_slip_beyond_max_slip_days_cancels_the_order() -> None:
    # in stock Tue 17 June, delivered Fri 20 June: 15 days past the first promise
    slipped = lot_in_stock_on(LA, date(2025, 6, 17), 5, NOW)

    decisions = plan_repromise([waiting("A", 5, TODAY)], [at_fc(LA, lots=(slipped,))], POLICY, NOW)

    assert decisions == [Cancel("A", TODAY, "max_slip_exceeded")]


def test_r10_max_slip_is_measured_from_the_first_promise() -> None:
    # given an order already moved once from Thursday 5 June to Wednesday 11 June delivery
    current = promised(LA, FRI)
    assert current.promised_delivery_date == date(2025, 6, 11)
    slipped = lot_in_stock_on(LA, date(2025, 6, 17), 5, NOW)
    order = waiting("A", 5, current, first=TODAY, slips=1)
    # when it would slip to 20 June: 9 days past its current date, 15 past the first
    decisions = plan_repromise([order], [at_fc(LA, lots=(slipped,))], POLICY, NOW)
    # then it is cancelled
    assert decisions == [Cancel("A", current, "max_slip_exceeded")]


def test_r10_order_whose_lot_is_lost_without_other_supply_is_cancelled() -> None:
    lost = lot_in_stock_on(LA, THU, 10, NOW, participation=LOST)

    decisions = plan_repromise(
        [waiting("A", 5, ON_THURSDAY)], [at_fc(LA, lots=(lost,))], POLICY, NOW
    )

    assert decisions == [Cancel("A", ON_THURSDAY, "no_supply")]


def test_r10_order_whose_lot_is_lost_is_resourced_to_another_fcs_supply() -> None:
    # given the Los Angeles lot is lost and New York has 10 units on Thursday
    lost = lot_in_stock_on(LA, THU, 10, NOW, participation=LOST)
    ny = lot_in_stock_on(NY, THU, 10, NOW, shipment_id="S-NY")
    at_fcs = [at_fc(LA, lots=(lost,)), at_fc(NY, lots=(ny,))]
    # when re-promised: New York ships Friday, 5 days to the west coast
    decisions = plan_repromise([waiting("A", 5, ON_THURSDAY)], at_fcs, POLICY, NOW)
    # then it moves there, 3 days later than first promised
    assert decisions == [Revise("A", ON_THURSDAY, revised_to(NY, THU), requires_consent=False)]
    assert promised(NY, THU).promised_delivery_date == date(2025, 6, 11)


def test_r10_units_of_revised_and_kept_orders_are_taken_in_turn() -> None:
    # given only 5 units left of 10 promised
    lots = (lot_in_stock_on(LA, THU, 5, NOW),)
    orders = [waiting("A", 5, ON_THURSDAY), waiting("B", 5, ON_THURSDAY)]

    decisions = plan_repromise(orders, [at_fc(LA, lots=lots)], POLICY, NOW)

    assert decisions == [Keep("A"), Cancel("B", ON_THURSDAY, "no_supply")]
    assert ON_THURSDAY.promised_delivery_date == SUN


# ---------------------------------------------------------------- the pass against a rebuilt curve


def _plan_by_rebuilding_curves(
    orders: list[WaitingOrder], at_fcs: list[SkuAtFc], policy: Policy, now: datetime
) -> list[Decision]:
    """The pass as first written: every check rebuilds the curve from every entry, O(n²)."""
    by_code = {a.fc.code: a for a in at_fcs}
    keep = {code: _curve(a, now, keep=True) for code, a in by_code.items()}
    new = {code: _curve(a, now, keep=False) for code, a in by_code.items()}
    resource = {code: _curve(a, now, keep=False, counted_only=True) for code, a in by_code.items()}
    demand: dict[str, list[Entry]] = {code: [] for code in by_code}
    decisions: list[Decision] = []
    for order in orders:
        home = order.promise.fc
        entry = Entry(order.promise.promised_in_stock_date, order.quantity)
        if home in by_code and is_feasible(keep[home], [*demand[home], entry]):
            demand[home].append(entry)
            decisions.append(Keep(order.order_id))
            continue
        options = []
        for code, at in by_code.items():
            if not at.fc.serves(order.region):
                continue
            same = code == home
            not_before = order.promise.promised_in_stock_date if same else at.fc.local_date(now)
            day = earliest_date(
                new[code] if same else resource[code], demand[code], order.quantity, not_before
            )
            if day is None:
                continue
            certainty = confidence(at, day, counted_only=False)
            promise = make_promise(
                at.fc, day, order.region, now, confidence=certainty, on_hand=False
            )
            if promise.promised_delivery_date < order.promise.promised_delivery_date:
                promise = replace(
                    promise, promised_delivery_date=order.promise.promised_delivery_date
                )
            options.append(((promise.promised_delivery_date, not same, code), promise))
        best = min(options, key=lambda pair: pair[0])[1] if options else None
        if best is None:
            decisions.append(Cancel(order.order_id, order.promise, "no_supply"))
        elif slip_days(order, best) > policy.max_slip_days:
            decisions.append(Cancel(order.order_id, order.promise, "max_slip_exceeded"))
        else:
            demand[best.fc].append(Entry(best.promised_in_stock_date, order.quantity))
            consent = order.slips > 0 or slip_days(order, best) > policy.consent_slip_days
            decisions.append(Revise(order.order_id, order.promise, best, requires_consent=consent))
    return decisions


WEEKS = [MON + timedelta(days=n) for n in range(0, 28)]
lots_at = st.lists(
    st.tuples(
        st.sampled_from(WEEKS),  # in-stock (q) day
        st.integers(0, 3),  # keep day this many days earlier (q_low)
        st.integers(1, 12),  # units
        st.sampled_from([PARTICIPATES_FOR_TEST, LOST]),
    ),
    max_size=4,
)
waiting_orders = st.lists(
    st.tuples(
        st.sampled_from(["LAX1", "JFK1"]),
        st.sampled_from(WEEKS[:14]),  # promised in-stock day
        st.integers(1, 4),  # units
        st.sampled_from(["us-west", "us-east"]),
        st.integers(0, 1),  # slips so far
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(
    la_lots=lots_at,
    ny_lots=lots_at,
    la_on_hand=st.integers(0, 6),
    ny_on_hand=st.integers(0, 6),
    drawn=waiting_orders,
)
def test_r9_pass_decides_as_when_every_check_rebuilt_the_curve(
    la_lots: list[tuple[date, int, int, Participation]],
    ny_lots: list[tuple[date, int, int, Participation]],
    la_on_hand: int,
    ny_on_hand: int,
    drawn: list[tuple[str, date, int, str, int]],
) -> None:
    def lots(fc: FulfillmentCenter, drawn_lots: list[tuple[date, int, int, Participation]]):
        return tuple(
            lot_in_stock_on(
                fc,
                in_stock,
                units,
                NOW,
                keep_on=max(MON, in_stock - timedelta(days=earlier)),
                shipment_id=f"S-{fc.code}-{index}",
                participation=taking_part,
            )
            for index, (in_stock, earlier, units, taking_part) in enumerate(drawn_lots)
        )

    at_fcs = [
        at_fc(LA, on_hand=la_on_hand, lots=lots(LA, la_lots)),
        at_fc(NY, on_hand=ny_on_hand, lots=lots(NY, ny_lots)),
    ]
    fcs = {"LAX1": LA, "JFK1": NY}
    orders = [
        waiting(
            f"O{index}",
            units,
            make_promise(fcs[code], day, region, NOW, confidence=0.97, on_hand=False),
            slips=slips,
            region=region,
        )
        for index, (code, day, units, region, slips) in enumerate(drawn)
    ]

    assert plan_repromise(orders, at_fcs, POLICY, NOW) == _plan_by_rebuilding_curves(
        orders, at_fcs, POLICY, NOW
    )
