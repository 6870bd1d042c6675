"""Orders over HTTP: on-hand first (R3), cumulative ATP (R6), exact and idempotent (R8)."""

from __future__ import annotations

import pytest

from tests.integration.checks import (
    adjust,
    assert_error,
    kinds,
    order_of,
    placed,
    report_of,
)
from tests.support import T0, Market, expect

IN_STOCK_PROMISE = {  # T0 is 07:00 in Los Angeles, before the 14:00 cut-off (R7)
    "promised_in_stock_date": "2026-03-02",
    "promised_ship_date": "2026-03-02",
    "promised_delivery_date": "2026-03-04",
    "confidence": 1.0,
}


@pytest.fixture
def seller(market: Market) -> str:
    """SKU1: 5 units on the shelf at LAX1 and 100 shipped towards it (95 after 5% shrink)."""
    seller_id = market.add_seller()
    market.add_product(seller_id, "SKU1")
    adjust(market, "SKU1", 5)
    market.add_shipment(seller_id, "SH1", {"SKU1": 100}, shipped_at=T0)
    return seller_id


def idempotent_order(market: Market, key: str, quantity: int = 2, buyer: str = "b1"):
    return market.order("SKU1", quantity, buyer=buyer, **{"Idempotency-Key": key})


def test_r3_on_hand_units_are_offered_first_as_in_stock(market: Market, seller: str) -> None:
    offer = market.offer("SKU1", quantity=5)

    assert offer == {
        "sku": "SKU1",
        "region": "us-west",
        "quantity": 5,
        "buyable": True,
        "buyer_state": "in_stock",
        "source": "in_stock",
        "fc": "LAX1",
        **{k: v for k, v in IN_STOCK_PROMISE.items() if k != "confidence"},
        "available_quantity": 5,
        "confidence": 1.0,
        "reasons": [],
    }


def test_r3_order_covered_by_on_hand_units_is_allocated_at_once(
    market: Market, seller: str
) -> None:
    response = market.order("SKU1", 5, buyer="b1")

    order = expect(response, 201)
    assert (order["status"], order["source"], order["fc"]) == ("allocated", "in_stock", "LAX1")
    assert (order["sku"], order["quantity"], order["region"], order["buyer_ref"]) == (
        "SKU1",
        5,
        "us-west",
        "b1",
    )
    assert order["promise"] == IN_STOCK_PROMISE
    assert order["revisions"] == []
    assert order["placed_at"] == T0


def test_r6_once_on_hand_is_sold_orders_are_promised_from_inbound(
    market: Market, seller: str
) -> None:
    placed(market, "SKU1", 5)
    offer = market.offer("SKU1")

    order = placed(market, "SKU1", 2)

    assert (offer["buyer_state"], offer["available_quantity"]) == ("head_start", 95)
    assert (order["status"], order["source"]) == ("promised", "head_start")
    assert order["promise"] == {
        "promised_in_stock_date": offer["promised_in_stock_date"],
        "promised_ship_date": offer["promised_ship_date"],
        "promised_delivery_date": offer["promised_delivery_date"],
        "confidence": offer["confidence"],
    }
    assert order["promise"]["promised_in_stock_date"] > IN_STOCK_PROMISE["promised_in_stock_date"]


def test_r6_an_order_larger_than_on_hand_waits_for_inbound(market: Market, seller: str) -> None:
    order = placed(market, "SKU1", 6)

    assert (order["status"], order["source"]) == ("promised", "head_start")


def test_r6_order_larger_than_all_supply_is_409_unavailable_with_reasons(
    market: Market, seller: str
) -> None:
    placed(market, "SKU1", 5)
    outbox = market.notifications()

    response = market.order("SKU1", 96)

    error = assert_error(response, 409, "unavailable")
    assert error["details"] == {
        "reasons": ["insufficient_quantity", "no_sellable_stock"],
        "available_quantity": 95,
    }
    assert market.notifications() == outbox
    assert report_of(market, seller)["head_start_orders"] == []


def test_r6_the_last_available_unit_can_be_ordered_and_then_none(
    market: Market, seller: str
) -> None:
    placed(market, "SKU1", 5)
    placed(market, "SKU1", 95)

    offer = market.offer("SKU1")

    assert (offer["buyable"], offer["available_quantity"]) == (False, 0)
    assert_error(market.order("SKU1", 1), 409, "unavailable")


def test_r8_idempotency_key_replay_returns_the_same_order_and_creates_nothing(
    market: Market, seller: str
) -> None:
    first = idempotent_order(market, "checkout-1", quantity=7)
    outbox = market.notifications()

    replay = idempotent_order(market, "checkout-1", quantity=7)

    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json() == first.json()
    assert market.notifications() == outbox
    assert [o["order_id"] for o in report_of(market, seller)["head_start_orders"]] == [
        first.json()["order_id"]
    ]


def test_r8_idempotency_key_reused_for_a_different_order_is_a_conflict(
    market: Market, seller: str
) -> None:
    first = expect(idempotent_order(market, "checkout-1", quantity=7), 201)

    response = idempotent_order(market, "checkout-1", quantity=8)

    error = assert_error(response, 409, "conflict")
    assert error["details"] == {"idempotency_key": "checkout-1", "order_id": first["order_id"]}
    assert len(report_of(market, seller)["head_start_orders"]) == 1


def test_r8_idempotency_keys_belong_to_the_storefront_that_sent_them(
    market: Market, seller: str
) -> None:
    first = expect(idempotent_order(market, "checkout-1"), 201)
    market.add_storefront("other-shop")

    other = expect(idempotent_order(market, "checkout-1"), 201)

    assert other["order_id"] != first["order_id"]


def test_an_order_reads_back_as_it_was_placed(market: Market, seller: str) -> None:
    order = placed(market, "SKU1", 2)

    assert order_of(market, order["order_id"]) == order


def test_r9a_buyer_cancels_a_waiting_order_in_one_step(market: Market, seller: str) -> None:
    placed(market, "SKU1", 5)
    order = placed(market, "SKU1", 3, buyer="b7")

    response = market.client.post(
        f"/v1/orders/{order['order_id']}/cancel", headers=market.storefront
    )

    cancelled = expect(response, 200)
    assert (cancelled["status"], cancelled["cancel_reason"], cancelled["promise"]) == (
        "cancelled",
        "buyer_cancelled",
        None,
    )
    assert [(r["reason"], r["old"], r["new"]) for r in cancelled["revisions"]] == [
        ("buyer_cancelled", order["promise"], None)
    ]
    assert [n["payload"] for n in market.notifications("order_cancelled")] == [
        {"seller_id": seller, "order_id": order["order_id"], "reason": "buyer_cancelled"}
    ]
    assert market.offer("SKU1")["available_quantity"] == 95


def test_cancelling_an_allocated_order_puts_its_units_back_on_the_shelf(
    market: Market, seller: str
) -> None:
    order = placed(market, "SKU1", 2)

    expect(
        market.client.post(f"/v1/orders/{order['order_id']}/cancel", headers=market.storefront),
        200,
    )

    offer = market.offer("SKU1")
    assert (offer["source"], offer["available_quantity"]) == ("in_stock", 5)


def test_r11_units_freed_by_a_cancellation_fill_waiting_orders_first(
    market: Market, seller: str
) -> None:
    shelf = placed(market, "SKU1", 5)
    waiting = placed(market, "SKU1", 3)

    expect(
        market.client.post(f"/v1/orders/{shelf['order_id']}/cancel", headers=market.storefront),
        200,
    )

    assert order_of(market, waiting["order_id"])["status"] == "allocated"
    assert market.offer("SKU1")["available_quantity"] == 2


def test_cancelling_a_cancelled_order_is_a_conflict(market: Market, seller: str) -> None:
    order = placed(market, "SKU1", 2)
    path = f"/v1/orders/{order['order_id']}/cancel"
    expect(market.client.post(path, headers=market.storefront), 200)

    response = market.client.post(path, headers=market.storefront)

    assert_error(response, 409, "conflict")
    assert kinds(market).count("order_cancelled") == 1


def test_r7_order_for_a_region_no_fc_serves_is_refused(market: Market, seller: str) -> None:
    response = market.order("SKU1", 1, region="eu-central")

    assert_error(response, 422, "invalid_request")
    assert market.offer("SKU1", region="eu-central")["reasons"] == ["region_not_served"]
