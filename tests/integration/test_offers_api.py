"""Offers, products and search over HTTP: R18 states, R16 events, R17 inputs, R1a, R7 dates."""

from __future__ import annotations

import pytest

from tests.integration.checks import adjust, placed, set_policy, shipment_of
from tests.support import T0, Market, expect

NO_DATES = {
    "fc": None,
    "promised_in_stock_date": None,
    "promised_ship_date": None,
    "promised_delivery_date": None,
    "confidence": None,
}


@pytest.fixture
def seller(market: Market) -> str:
    return market.add_seller()


def put_product(market: Market, seller: str, sku: str, **body: object):
    return market.client.put(
        f"/v1/products/{sku}",
        json={"title": "Blue kettle", "price": "21.50", **body},
        headers=market.sellers[seller],
    )


def offer_events(market: Market, sku: str) -> list[dict]:
    return [
        n["payload"]["offer"]
        for n in market.notifications("offer_changed")
        if n["payload"]["sku"] == sku
    ]


def test_put_product_creates_then_replaces_it(market: Market, seller: str) -> None:
    created = put_product(market, seller, "SKU1")
    replaced = put_product(market, seller, "SKU1", title="Blue kettle, 2 l", head_start_cap=10)

    assert created.status_code == 201
    assert expect(replaced, 200) == {
        "sku": "SKU1",
        "seller_id": seller,
        "title": "Blue kettle, 2 l",
        "price": "21.50",
        "currency": "USD",
        "head_start_excluded": False,
        "head_start_cap": 10,
    }


def test_product_price_reads_back_with_its_cents(market: Market, seller: str) -> None:
    product = expect(put_product(market, seller, "SKU1", price="20.00"), 201)

    assert product["price"] == "20.00"
    [found] = expect(market.client.get("/v1/search", params={"q": "SKU1"}), 200)["results"]
    assert found["price"] == "20.00"


def test_r18_in_stock_offer_has_dates_and_full_confidence(market: Market, seller: str) -> None:
    market.add_product(seller, "SKU1")
    adjust(market, "SKU1", 3)

    offer = market.offer("SKU1")

    assert (offer["buyable"], offer["buyer_state"], offer["source"]) == (
        True,
        "in_stock",
        "in_stock",
    )
    assert (offer["promised_in_stock_date"], offer["promised_ship_date"]) == ("2026-03-02",) * 2
    assert (offer["available_quantity"], offer["confidence"]) == (3, 1.0)


def test_r18_head_start_offer_has_a_confident_date(market: Market, seller: str) -> None:
    market.add_product(seller, "SKU1")
    market.add_shipment(seller, "SH1", {"SKU1": 100}, shipped_at=T0)

    offer = market.offer("SKU1")

    assert (offer["buyable"], offer["buyer_state"], offer["source"]) == (
        True,
        "head_start",
        "head_start",
    )
    assert (
        offer["promised_in_stock_date"]
        == shipment_of(market, "SH1")["estimate"]["promised_in_stock_date"]
    )
    assert offer["promised_in_stock_date"] < offer["promised_ship_date"]
    assert offer["promised_ship_date"] < offer["promised_delivery_date"]
    assert offer["available_quantity"] == 95  # floor(100 x (1 - 0.05)), R5
    assert 0.97 <= offer["confidence"] <= 1


def test_r18_temporarily_out_of_stock_offer_shows_no_date(market: Market, seller: str) -> None:
    market.add_product(seller, "SKU1")
    market.add_shipment(seller, "SH1", {"SKU1": 100})  # not shipped: it does not count

    offer = market.offer("SKU1")

    assert offer == {
        "sku": "SKU1",
        "region": "us-west",
        "quantity": 1,
        "buyable": False,
        "buyer_state": "temporarily_out_of_stock",
        "source": "none",
        **NO_DATES,
        "available_quantity": 0,
        "reasons": ["no_sellable_stock", "no_counted_inbound_supply"],
    }


def test_r1a_an_excluded_sku_offers_no_head_start(market: Market, seller: str) -> None:
    market.add_product(seller, "SKU1", head_start_excluded=True)
    market.add_shipment(seller, "SH1", {"SKU1": 100}, shipped_at=T0)

    offer = market.offer("SKU1")

    assert (offer["buyer_state"], offer["reasons"]) == (
        "temporarily_out_of_stock",
        ["sku_excluded_by_seller", "no_sellable_stock"],
    )


def test_r1a_head_start_cap_limits_the_units_offered(market: Market, seller: str) -> None:
    market.add_product(seller, "SKU1", head_start_cap=10)
    market.add_shipment(seller, "SH1", {"SKU1": 100}, shipped_at=T0)
    placed(market, "SKU1", 4)

    offer = market.offer("SKU1", quantity=7)

    assert (offer["buyable"], offer["available_quantity"]) == (False, 6)
    assert "head_start_cap" in offer["reasons"]


def test_r16_every_offer_change_is_published(market: Market, seller: str) -> None:
    market.add_product(seller, "SKU1")
    market.add_shipment(seller, "SH1", {"SKU1": 100}, shipped_at=T0)
    placed(market, "SKU1", 5)

    events = offer_events(market, "SKU1")

    assert [(e["buyable"], e["source"]) for e in events] == [
        (False, "none"),
        (True, "head_start"),
        (True, "head_start"),
    ]
    assert [[fc["available_quantity"] for fc in e["fcs"]] for e in events] == [[], [95], [90]]
    assert all(n["recipient"] == "storefront" for n in market.notifications("offer_changed"))


def test_r16_reads_and_unchanged_offers_publish_nothing(market: Market, seller: str) -> None:
    market.add_product(seller, "SKU1")
    adjust(market, "SKU1", 3)
    outbox = market.notifications()

    market.offer("SKU1")
    put_product(market, seller, "SKU1", title="Blue kettle (new photo)")

    assert market.notifications() == outbox


def test_r16_a_policy_change_that_changes_an_offer_is_published(
    market: Market, seller: str
) -> None:
    market.add_product(seller, "SKU1")
    market.add_shipment(seller, "SH1", {"SKU1": 100}, shipped_at=T0)
    assert offer_events(market, "SKU1")[-1]["buyable"] is True

    set_policy(market, horizon_days=1)  # the lot's in-stock date now lies beyond H (R4)

    assert market.offer("SKU1")["buyable"] is False
    assert offer_events(market, "SKU1")[-1]["buyable"] is False


def test_r17_explain_shows_the_lots_and_policy_behind_the_offer(
    market: Market, seller: str
) -> None:
    market.add_product(seller, "SKU1")
    adjust(market, "SKU1", 2)
    market.add_shipment(seller, "SH1", {"SKU1": 100}, shipped_at=T0)
    offer = market.offer("SKU1")

    response = market.client.get("/v1/offers/SKU1/explain", headers=market.operator)

    explained = expect(response, 200)
    inputs = explained.pop("inputs")
    assert explained.pop("last_published")["offer"]["source"] == "in_stock"
    assert explained == offer
    assert inputs["now"] == T0
    assert inputs["policy"]["q"] == 0.97 and inputs["policy"]["horizon_days"] == 21
    [lot] = inputs["fcs"]["LAX1"]["lots"]
    assert (lot["shipment_id"], lot["quantity"], lot["counted"]) == ("SH1", 95, True)
    assert lot["model_version"] == shipment_of(market, "SH1")["estimate"]["model"]
    assert inputs["fcs"]["LAX1"]["on_hand"] == 2


def test_search_lists_head_start_products_with_their_offer(market: Market, seller: str) -> None:
    market.add_product(seller, "SKU1", title="Blue kettle")
    market.add_product(seller, "SKU2", title="Red kettle")
    market.add_product(seller, "SKU3", title="Teapot")
    market.add_shipment(seller, "SH1", {"SKU1": 100}, shipped_at=T0)

    found = expect(market.client.get("/v1/search", params={"q": "KETTLE"}), 200)

    assert found["query"] == "KETTLE"
    assert [(r["sku"], r["title"], r["offer"]["buyer_state"]) for r in found["results"]] == [
        ("SKU1", "Blue kettle", "head_start"),
        ("SKU2", "Red kettle", "temporarily_out_of_stock"),
    ]
    assert found["results"][0]["offer"] == market.offer("SKU1")


def test_r7_an_in_stock_order_after_the_local_cutoff_ships_the_next_operating_day(
    market: Market, seller: str
) -> None:
    market.add_product(seller, "SKU1")
    adjust(market, "SKU1", 3)

    market.set_clock("2026-03-07T03:00:00+00:00")  # Saturday in UTC, Friday 19:00 in LA

    offer = market.offer("SKU1")
    assert (
        offer["promised_in_stock_date"],
        offer["promised_ship_date"],
        offer["promised_delivery_date"],
    ) == ("2026-03-06", "2026-03-09", "2026-03-11")


def test_r7_an_order_is_promised_from_the_fc_with_the_earliest_delivery(
    market: Market, seller: str
) -> None:
    market.add_fc("PHX1", "America/Phoenix", outbound_transit_days={"us-west": 1})
    market.add_product(seller, "SKU1")
    adjust(market, "SKU1", 3, fc="LAX1")
    adjust(market, "SKU1", 3, fc="PHX1")

    order = placed(market, "SKU1", 1)

    assert (order["fc"], order["promise"]["promised_delivery_date"]) == ("PHX1", "2026-03-03")
