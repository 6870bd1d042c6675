"""Receipts, closing and on-hand corrections over HTTP (R11), and the shrink they teach (R5)."""

from __future__ import annotations

import pytest

from tests.integration.checks import (
    adjust,
    assert_error,
    at,
    enrollment_of,
    order_of,
    placed,
    row_of,
    shipment_of,
)
from tests.support import T0, Market

ACME_EMAIL = "acme@example.com"


@pytest.fixture
def seller(market: Market) -> str:
    """SKU1: nothing on the shelf, 100 units shipped to LAX1 in SH1."""
    seller_id = market.add_seller("Acme")
    market.add_product(seller_id, "SKU1")
    market.add_shipment(seller_id, "SH1", {"SKU1": 100}, shipped_at=T0)
    return seller_id


def test_r11_received_units_fill_the_earliest_waiting_order_first(
    market: Market, seller: str
) -> None:
    first = placed(market, "SKU1", 3, buyer="b1")
    second = placed(market, "SKU1", 2, buyer="b2")

    result = market.receive("SH1", "R1", T0, {"SKU1": 4})

    assert result == {
        "receipt_id": "R1",
        "duplicate": False,
        "allocated_orders": [first["order_id"]],
    }
    assert order_of(market, first["order_id"])["status"] == "allocated"
    assert order_of(market, second["order_id"])["status"] == "promised"
    row = row_of(market, seller, "SKU1")
    assert (row["sellable"], row["allocated"], row["head_start_reserved"]) == (1, 3, 2)


def test_r11_waiting_orders_are_filled_by_promised_ship_date_before_placement_time(
    market: Market, seller: str
) -> None:
    market.advance(48)
    market.add_shipment(seller, "SH2", {"SKU1": 100}, shipped_at=at(T0, hours=48))
    big = placed(market, "SKU1", 150, buyer="big")  # needs SH2, so promised later
    small = placed(market, "SKU1", 1, buyer="small")  # SH1 alone covers it, earlier
    assert small["promise"]["promised_ship_date"] < big["promise"]["promised_ship_date"]

    result = market.receive("SH1", "R1", at(T0, hours=48), {"SKU1": 1})

    assert result["allocated_orders"] == [small["order_id"]]
    assert order_of(market, big["order_id"])["status"] == "promised"


def test_r11_units_beyond_the_waiting_orders_become_sellable_stock(
    market: Market, seller: str
) -> None:
    order = placed(market, "SKU1", 3)

    market.receive("SH1", "R1", T0, {"SKU1": 10})

    offer = market.offer("SKU1")
    assert order_of(market, order["order_id"])["status"] == "allocated"
    assert (offer["buyer_state"], offer["fc"]) == ("in_stock", "LAX1")
    assert row_of(market, seller, "SKU1")["sellable"] == 7


def test_r11_a_receipt_moves_the_shipment_to_receiving(market: Market, seller: str) -> None:
    market.receive("SH1", "R1", T0, {"SKU1": 40})

    view = shipment_of(market, "SH1")

    assert view["status"] == "receiving"
    assert view["lines"] == [{"sku": "SKU1", "quantity": 100, "quantity_received": 40}]


def test_r11_receipts_are_idempotent_by_receipt_id(market: Market, seller: str) -> None:
    placed(market, "SKU1", 3)
    market.receive("SH1", "R1", T0, {"SKU1": 4})
    outbox = market.notifications()

    replay = market.receive("SH1", "R1", T0, {"SKU1": 4})

    assert replay == {"receipt_id": "R1", "duplicate": True, "allocated_orders": []}
    assert shipment_of(market, "SH1")["lines"][0]["quantity_received"] == 4
    assert row_of(market, seller, "SKU1")["sellable"] == 1
    assert market.notifications() == outbox


def test_r11_a_receipt_id_of_another_shipment_is_a_conflict(market: Market, seller: str) -> None:
    market.add_shipment(seller, "SH2", {"SKU1": 10}, shipped_at=T0)
    market.receive("SH1", "R1", T0, {"SKU1": 4})

    response = market.client.post(
        "/v1/shipments/SH2/receipts",
        json={"receipt_id": "R1", "received_at": T0, "lines": [{"sku": "SKU1", "quantity": 4}]},
        headers=market.operator,
    )

    assert_error(response, 409, "conflict")
    assert shipment_of(market, "SH2")["lines"][0]["quantity_received"] == 0


def test_r11_a_shipment_not_yet_shipped_cannot_receive(market: Market, seller: str) -> None:
    market.add_shipment(seller, "SH2", {"SKU1": 10})

    response = market.client.post(
        "/v1/shipments/SH2/receipts",
        json={"receipt_id": "R1", "received_at": T0, "lines": [{"sku": "SKU1", "quantity": 4}]},
        headers=market.operator,
    )

    assert_error(response, 409, "conflict")


def test_r11_closing_short_cancels_the_orders_it_can_no_longer_cover(
    market: Market, seller: str
) -> None:
    first = placed(market, "SKU1", 3, buyer="b1")
    second = placed(market, "SKU1", 2, buyer="b2")
    market.receive("SH1", "R1", T0, {"SKU1": 4})

    closed = market.close("SH1")

    assert closed == {
        "shipment_id": "SH1",
        "status": "closed",
        "shortfall": {"SKU1": 96},
        "seller_shrink": "0.3533",  # (96 short + 0.05 x 200 prior units) / (100 + 200)
    }
    assert order_of(market, first["order_id"])["status"] == "allocated"
    after = order_of(market, second["order_id"])
    assert (after["status"], after["cancel_reason"]) == ("cancelled", "no_supply")
    assert [n["payload"] for n in market.notifications("order_cancelled")] == [
        {"seller_id": seller, "order_id": second["order_id"], "reason": "no_supply"}
    ]


def test_r11_closing_short_tells_the_seller_what_was_missing(market: Market, seller: str) -> None:
    market.receive("SH1", "R1", T0, {"SKU1": 90})

    market.close("SH1")

    [notice] = market.notifications("short_receipt")
    assert notice["recipient"] == ACME_EMAIL
    assert notice["payload"] == {
        "seller_id": seller,
        "shipment_id": "SH1",
        "shortfall": {"SKU1": 10},
    }
    assert "SKU1: 10 short" in notice["body"]


def test_r5_closing_short_raises_the_sellers_shrink_and_its_next_haircut(
    market: Market, seller: str
) -> None:
    market.receive("SH1", "R1", T0, {"SKU1": 4})
    market.close("SH1")

    market.add_shipment(seller, "SH2", {"SKU1": 100}, shipped_at=T0)

    assert enrollment_of(market, seller)["shrink"] == "0.3533"
    row = row_of(market, seller, "SKU1")
    assert (row["sellable"], row["head_start_available"]) == (4, 64)  # floor(100 x 0.6467)


def test_r11_a_full_close_sends_no_short_receipt(market: Market, seller: str) -> None:
    market.receive("SH1", "R1", T0, {"SKU1": 100})

    closed = market.close("SH1")

    assert (closed["status"], closed["shortfall"], closed["seller_shrink"]) == (
        "closed",
        {},
        "0.0333",  # (0 short + 10 prior) / 300: the default shrink fades as history grows
    )
    assert market.notifications("short_receipt") == []


def test_closing_a_shipment_never_shipped_cancels_it(market: Market, seller: str) -> None:
    market.add_shipment(seller, "SH2", {"SKU1": 10})

    closed = market.close("SH2")

    assert (closed["status"], closed["shortfall"]) == ("cancelled", {"SKU1": 10})
    assert market.notifications("short_receipt") == []
    assert enrollment_of(market, seller)["shrink"] == "0.05"


def test_closing_a_closed_shipment_is_a_conflict(market: Market, seller: str) -> None:
    market.close("SH1")

    response = market.client.post("/v1/shipments/SH1/close", headers=market.operator)

    assert_error(response, 409, "conflict")
    assert len(market.notifications("short_receipt")) == 1


def test_inventory_adjustments_correct_the_units_on_the_shelf(market: Market, seller: str) -> None:
    found = adjust(market, "SKU1", 5)
    lost = adjust(market, "SKU1", -2)

    assert found == {"sku": "SKU1", "fc": "LAX1", "sellable": 5, "allocated": 0}
    assert lost == {"sku": "SKU1", "fc": "LAX1", "sellable": 3, "allocated": 0}
    offer = market.offer("SKU1")
    assert (offer["source"], offer["available_quantity"]) == ("in_stock", 3)


def test_r11_units_found_by_an_adjustment_fill_waiting_orders_first(
    market: Market, seller: str
) -> None:
    order = placed(market, "SKU1", 3)

    found = adjust(market, "SKU1", 4)

    assert found == {"sku": "SKU1", "fc": "LAX1", "sellable": 1, "allocated": 3}
    assert order_of(market, order["order_id"])["status"] == "allocated"


def test_a_receipt_dated_a_year_ahead_is_refused(market: Market, seller: str) -> None:
    shipment = shipment_of(market, "SH1")

    response = market.client.post(
        "/v1/shipments/SH1/receipts",
        json={
            "receipt_id": "R1",
            "received_at": at(T0, hours=24 * 365),
            "lines": [{"sku": "SKU1", "quantity": 100}],
        },
        headers=market.operator,
    )

    assert_error(response, 422, "invalid_request")
    assert shipment_of(market, "SH1") == shipment


def test_r5_a_short_close_re_runs_r6_for_every_sku_of_the_seller(market: Market) -> None:
    # given SKU A's 19 head-start units are all promised, and SKU B ships in the same seller's name
    seller_id = market.add_seller("Acme")
    market.add_product(seller_id, "SKU-A")
    market.add_product(seller_id, "SKU-B")
    market.add_shipment(seller_id, "SH-A", {"SKU-A": 20}, shipped_at=T0)
    market.add_shipment(seller_id, "SH-B", {"SKU-B": 10}, shipped_at=T0)
    orders = [placed(market, "SKU-A", 1, buyer=f"b{n}") for n in range(19)]
    # when SH-B closes with nothing received, so the seller's shrink rises (R5)
    market.close("SH-B")
    # then A's lot now covers 18 units, and the invariant holds at once (R6, R8):
    # the newest order of A gives way, the first 18 keep their promises
    statuses = [order_of(market, order["order_id"])["status"] for order in orders]
    assert statuses == ["promised"] * 18 + ["cancelled"]
    assert order_of(market, orders[-1]["order_id"])["cancel_reason"] == "no_supply"
    assert market.offer("SKU-A")["buyable"] is False
