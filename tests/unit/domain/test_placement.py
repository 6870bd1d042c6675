"""Quoting a new order: where and when it can be promised (R1a, R3, R4, R6, R7, R17, R18)."""

from __future__ import annotations

from datetime import time

import pytest

from headstart.domain.atp import Entry
from headstart.domain.placement import demand_by_day, quote
from tests.unit.domain.builders import (
    FRI,
    MON,
    NEXT_MON,
    POLICY,
    SAT,
    SUN,
    THU,
    TUE,
    WED,
    at_fc,
    estimate_between,
    fc_berlin,
    fc_los_angeles,
    fc_new_york,
    in_stock_date_of,
    local,
    lot,
    lot_in_stock_on,
    sku_supply,
)

LA = fc_los_angeles()
NY = fc_new_york()
NOW = local(LA, MON, time(10, 0))  # Monday morning in Los Angeles, before the cut-off


def test_r3_on_hand_units_sell_first_and_ship_the_same_day_before_cutoff() -> None:
    # given 5 sellable units and a lot of 10 arriving on Thursday
    supply = sku_supply(at_fc(LA, on_hand=5, lots=(lot_in_stock_on(LA, THU, 10, NOW),)))
    # when a buyer asks for 3
    offer = quote(supply, 3, "us-west", POLICY, NOW)
    # then they come from stock, leaving today
    assert (offer.buyable, offer.source, offer.buyer_state) == (True, "in_stock", "in_stock")
    assert offer.promise is not None
    assert offer.promise.promised_in_stock_date == MON
    assert offer.promise.promised_ship_date == MON
    assert offer.promise.promised_delivery_date == WED
    assert offer.promise.confidence == 1.0
    assert offer.available_quantity == 5


def test_r3_on_hand_order_after_cutoff_ships_the_next_operating_day() -> None:
    supply = sku_supply(at_fc(LA, on_hand=5))

    offer = quote(supply, 1, "us-west", POLICY, local(LA, MON, time(15, 0)))

    assert offer.source == "in_stock"
    assert offer.promise is not None
    assert (offer.promise.promised_ship_date, offer.promise.promised_delivery_date) == (TUE, THU)


def test_r3_on_hand_order_on_saturday_ships_on_monday() -> None:
    supply = sku_supply(at_fc(LA, on_hand=5))

    offer = quote(supply, 1, "us-west", POLICY, local(LA, SAT, time(9, 0)))

    assert offer.promise is not None
    assert offer.promise.promised_in_stock_date == SAT
    assert offer.promise.promised_ship_date == NEXT_MON


def test_r3_demand_beyond_on_hand_is_promised_from_inbound_as_head_start() -> None:
    # given 2 sellable units and a lot arriving by Thursday (a spread estimate)
    estimate = estimate_between(NOW, 0, 88)  # q = 0.97 on Thursday night, the tail on Friday
    inbound = lot(LA, estimate, 10, NOW)
    supply = sku_supply(at_fc(LA, on_hand=2, lots=(inbound,)))
    # when a buyer asks for 5
    offer = quote(supply, 5, "us-west", POLICY, NOW)
    # then the whole order waits for the lot, and ships after the handling day
    assert (offer.buyable, offer.source, offer.buyer_state) == (True, "head_start", "head_start")
    assert offer.promise is not None
    assert offer.promise.promised_in_stock_date == inbound.in_stock_date == THU
    assert offer.promise.promised_ship_date == FRI
    assert offer.promise.promised_delivery_date == SUN
    assert POLICY.q <= offer.promise.confidence < 1.0
    assert offer.available_quantity == 12


def test_r6_order_that_fits_only_after_the_second_lot_is_promised_at_its_date() -> None:
    lots = (
        lot_in_stock_on(LA, TUE, 5, NOW, shipment_id="S-1"),
        lot_in_stock_on(LA, FRI, 5, NOW, shipment_id="S-2"),
    )
    supply = sku_supply(at_fc(LA, lots=lots))

    assert in_stock_date_of(quote(supply, 5, "us-west", POLICY, NOW)) == TUE
    assert in_stock_date_of(quote(supply, 8, "us-west", POLICY, NOW)) == FRI


def test_r6_units_already_promised_are_not_offered_again() -> None:
    # given a lot of 10 whose units are all promised to earlier orders
    supply = sku_supply(
        at_fc(LA, lots=(lot_in_stock_on(LA, THU, 10, NOW),), demand=(Entry(THU, 10),))
    )

    offer = quote(supply, 1, "us-west", POLICY, NOW)

    assert (offer.buyable, offer.promise, offer.available_quantity) == (False, None, 0)
    assert offer.reasons == ("all_supply_promised", "no_sellable_stock")


def test_r4_units_on_hand_and_inbound_all_promised_say_why_not_buyable() -> None:
    # given 2 units on the shelf and a lot of 10, all 12 promised to earlier orders
    # (found by the long domain-model run: this "no" had no reason at all)
    supply = sku_supply(
        at_fc(
            LA,
            on_hand=2,
            lots=(lot_in_stock_on(LA, THU, 10, NOW),),
            demand=(Entry(MON, 2), Entry(THU, 10)),
        )
    )

    offer = quote(supply, 1, "us-west", POLICY, NOW)

    assert offer.buyable is False
    assert offer.reasons == ("all_supply_promised",)


def test_r18_not_buyable_quote_is_temporarily_out_of_stock_without_any_date() -> None:
    offer = quote(sku_supply(at_fc(LA)), 1, "us-west", POLICY, NOW)

    assert (offer.buyable, offer.source, offer.promise) == (False, "none", None)
    assert offer.buyer_state == "temporarily_out_of_stock"
    assert offer.reasons == ("no_sellable_stock", "no_counted_inbound_supply")


def test_r4_lot_beyond_the_horizon_is_not_buyable_and_says_why() -> None:
    far = lot(LA, estimate_between(NOW, 24 * 20, 24 * 25), 10, NOW)

    offer = quote(sku_supply(at_fc(LA, lots=(far,))), 1, "us-west", POLICY, NOW)

    assert offer.buyer_state == "temporarily_out_of_stock"
    assert offer.reasons == ("beyond_horizon", "no_sellable_stock", "no_counted_inbound_supply")


@pytest.mark.parametrize(("region", "fc_code"), [("us-east", "JFK1"), ("us-west", "LAX1")])
def test_r7_order_goes_to_the_fc_with_the_earliest_delivery_date(region: str, fc_code: str) -> None:
    # given Los Angeles gets stock on Tuesday and New York on Thursday
    la = at_fc(LA, lots=(lot_in_stock_on(LA, TUE, 10, NOW, shipment_id="S-LA"),))
    ny = at_fc(NY, lots=(lot_in_stock_on(NY, THU, 10, NOW, shipment_id="S-NY"),))
    # when an east-coast buyer orders: LA ships Wed + 5 days = Mon, NY ships Fri + 1 = Sat
    offer = quote(sku_supply(la, ny), 1, region, POLICY, NOW)
    # then the later in-stock date still wins when it delivers earlier
    assert offer.promise is not None
    assert offer.promise.fc == fc_code
    expected = {"JFK1": SAT, "LAX1": FRI}[fc_code]
    assert offer.promise.promised_delivery_date == expected


def test_r7_fc_that_does_not_serve_the_region_is_not_offered() -> None:
    berlin = fc_berlin()
    supply = sku_supply(at_fc(berlin, on_hand=5))

    offer = quote(supply, 1, "us-west", POLICY, NOW)

    assert offer.buyable is False
    assert offer.reasons == ("region_not_served", "no_counted_inbound_supply")


def test_r17_quote_records_the_lots_estimate_and_policy_it_rests_on() -> None:
    supply = sku_supply(at_fc(LA, lots=(lot_in_stock_on(LA, THU, 10, NOW),)))

    offer = quote(supply, 1, "us-west", POLICY, NOW)

    record = offer.inputs["fcs"]
    assert isinstance(record, dict)
    assert record["LAX1"]["earliest_date"] == "2025-06-05"
    assert record["LAX1"]["lots"][0]["shipment_id"] == "S-1"
    assert record["LAX1"]["lots"][0]["model_version"] == "test-model-1"
    assert offer.inputs["policy"] == POLICY.to_dict()


def test_r4_asking_for_more_than_is_inbound_reports_insufficient_quantity() -> None:
    # given no sellable stock and 10 units on their way (all buyable for Thursday)
    supply = sku_supply(at_fc(LA, lots=(lot_in_stock_on(LA, THU, 10, NOW),)))
    assert quote(supply, 10, "us-west", POLICY, NOW).buyable is True
    # when a buyer asks for 11
    refused = quote(supply, 11, "us-west", POLICY, NOW)
    # then the answer says the quantity is the problem, and that 10 could be bought
    assert refused.buyable is False
    assert "insufficient_quantity" in refused.reasons
    assert refused.available_quantity == 10


def test_r17_demand_is_recorded_as_units_per_day() -> None:
    demand = (Entry(THU, 2), Entry(TUE, 1), Entry(THU, 3))

    assert demand_by_day(demand) == [["2025-06-03", 1], ["2025-06-05", 5]]
