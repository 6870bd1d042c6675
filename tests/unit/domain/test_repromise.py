"""Re-promising waiting orders when supply changes (R9, R9a, R10)."""

from __future__ import annotations

from datetime import date, time

from headstart.domain.calendar import FulfillmentCenter
from headstart.domain.policy import Policy
from headstart.domain.promise import Promise, make_promise
from headstart.domain.repromise import Cancel, Keep, Revise, WaitingOrder, plan_repromise
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
