"""Sell-through protection (R1a) and suppression (R4): no new head start, on-hand still sells."""

from __future__ import annotations

from datetime import time

from headstart.domain.atp import Entry
from headstart.domain.placement import quote
from tests.unit.domain.builders import (
    MON,
    POLICY,
    THU,
    at_fc,
    fc_los_angeles,
    fc_new_york,
    in_stock_date_of,
    local,
    lot_in_stock_on,
    sku_supply,
)

LA = fc_los_angeles()
NY = fc_new_york()
NOW = local(LA, MON, time(10, 0))


def test_r4_suppressed_sku_offers_no_head_start_but_still_sells_on_hand() -> None:
    lots = (lot_in_stock_on(LA, THU, 10, NOW),)
    supply = sku_supply(at_fc(LA, on_hand=3, lots=lots), suppressed=True)

    assert quote(supply, 3, "us-west", POLICY, NOW).source == "in_stock"
    refused = quote(supply, 4, "us-west", POLICY, NOW)
    assert refused.buyable is False
    assert "suppressed_for_late_promises" in refused.reasons


def test_r1a_excluded_sku_offers_no_head_start_but_still_sells_on_hand() -> None:
    lots = (lot_in_stock_on(LA, THU, 10, NOW),)
    supply = sku_supply(at_fc(LA, on_hand=3, lots=lots), excluded=True)

    sold = quote(supply, 3, "us-west", POLICY, NOW)
    refused = quote(supply, 4, "us-west", POLICY, NOW)

    assert (sold.buyable, sold.source) == (True, "in_stock")
    assert refused.buyable is False
    assert refused.reasons == ("sku_excluded_by_seller", "insufficient_quantity")
    assert refused.available_quantity == 3


def test_r1a_cap_counts_head_start_demand_at_other_fcs() -> None:
    # given a cap of 10, 4 head-start units already promised at New York,
    # and a lot of 20 on its way to Los Angeles
    ny = at_fc(
        NY, lots=(lot_in_stock_on(NY, THU, 4, NOW, shipment_id="S-NY"),), demand=(Entry(THU, 4),)
    )
    la = at_fc(LA, lots=(lot_in_stock_on(LA, THU, 20, NOW),))
    supply = sku_supply(la, ny, cap=10)
    # then Los Angeles offers only the 6 units left under the cap
    fits = quote(supply, 6, "us-west", POLICY, NOW)
    over = quote(supply, 7, "us-west", POLICY, NOW)
    assert (fits.buyable, fits.available_quantity) == (True, 6)
    assert fits.promise is not None and fits.promise.fc == "LAX1"
    assert over.buyable is False
    assert "head_start_cap" in over.reasons


def test_r1a_cap_counts_head_start_demand_at_the_same_fc_once() -> None:
    la = at_fc(LA, lots=(lot_in_stock_on(LA, THU, 20, NOW),), demand=(Entry(THU, 4),))
    supply = sku_supply(la, cap=10)

    assert quote(supply, 6, "us-west", POLICY, NOW).buyable is True
    assert quote(supply, 7, "us-west", POLICY, NOW).buyable is False


def test_r1a_cap_does_not_limit_on_hand_units() -> None:
    supply = sku_supply(at_fc(LA, on_hand=8, lots=(lot_in_stock_on(LA, THU, 20, NOW),)), cap=2)

    assert in_stock_date_of(quote(supply, 8, "us-west", POLICY, NOW)) == MON
    assert in_stock_date_of(quote(supply, 10, "us-west", POLICY, NOW)) == THU
    assert quote(supply, 11, "us-west", POLICY, NOW).buyable is False


# A lot of 10 arriving Thursday already carries 5 units of head-start orders; 3 units are
# sellable (a receipt too small for the waiting order, or an inventory adjustment, R11).
WAITING = (Entry(THU, 5),)
COVERED_BY_LOT = (lot_in_stock_on(LA, THU, 10, NOW),)


def test_r3_on_hand_sells_while_waiting_orders_are_covered_by_their_lot() -> None:
    supply = sku_supply(at_fc(LA, on_hand=3, lots=COVERED_BY_LOT, demand=WAITING))

    offer = quote(supply, 3, "us-west", POLICY, NOW)

    assert (offer.buyable, offer.source) == (True, "in_stock")


def test_r1a_excluded_sku_with_waiting_orders_still_sells_its_on_hand_units() -> None:
    # given the seller excludes the SKU to sell out
    supply = sku_supply(at_fc(LA, on_hand=3, lots=COVERED_BY_LOT, demand=WAITING), excluded=True)
    # when a buyer asks for the 3 sellable units
    offer = quote(supply, 3, "us-west", POLICY, NOW)
    # then they are sold from stock (the lot still fills the 5 waiting units)
    assert (offer.buyable, offer.source) == (True, "in_stock")


def test_r4_suppressed_sku_with_waiting_orders_still_sells_its_on_hand_units() -> None:
    supply = sku_supply(at_fc(LA, on_hand=3, lots=COVERED_BY_LOT, demand=WAITING), suppressed=True)

    offer = quote(supply, 3, "us-west", POLICY, NOW)

    assert (offer.buyable, offer.source) == (True, "in_stock")


def test_r1a_cap_lowered_below_promised_units_still_sells_on_hand_units() -> None:
    # given the seller lowers the cap to 0 after 5 units were promised
    supply = sku_supply(at_fc(LA, on_hand=3, lots=COVERED_BY_LOT, demand=WAITING), cap=0)

    offer = quote(supply, 3, "us-west", POLICY, NOW)

    assert (offer.buyable, offer.source) == (True, "in_stock")
