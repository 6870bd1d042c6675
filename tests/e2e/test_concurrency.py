"""Concurrent requests against the real server: every count stays exact.

R8 for orders (and their Idempotency-Key), R11 for receipts, and idempotent
tracking events. Each request comes from its own thread and its own HTTP
connection, released together by a barrier, on SQLite (one writer at a time)
and on PostgreSQL (row locks), so the server's own locking is what is tested.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from tests.e2e.crowd import fire_together, order_body
from tests.e2e.server import ServerProcess
from tests.support import T0, Market, expect

pytestmark = pytest.mark.e2e


RACE_ROUNDS = 3


def given_a_marketplace(market: Market) -> str:
    """The clock at T0, one FC, a storefront key and an enrolled seller (returned)."""
    market.set_clock(T0)
    market.add_fc()
    market.add_storefront()
    return market.add_seller()


def given_inbound_units(market: Market, seller: str, sku: str, shipped: int) -> None:
    """A SKU with nothing on hand and one partnered parcel shipment of it shipped at T0."""
    market.add_product(seller, sku)
    market.add_shipment(seller, f"SH-{sku}", {sku: shipped}, shipped_at=T0)


def given_a_sold_out_sku_with_inbound_units(market: Market, sku: str, shipped: int) -> str:
    seller = given_a_marketplace(market)
    given_inbound_units(market, seller, sku, shipped)
    return seller


def report_row(market: Market, seller: str, sku: str) -> dict[str, Any]:
    report = expect(market.client.get("/v1/reports/inventory", headers=market.sellers[seller]), 200)
    (row,) = [row for row in report["rows"] if row["sku"] == sku]
    return {**row, "orders": [o for o in report["head_start_orders"] if o["sku"] == sku]}


def test_r8_64_concurrent_orders_for_19_head_start_units_exactly_19_succeed(
    server_process: ServerProcess, client: httpx.Client
) -> None:
    # Given 20 units shipped: R5 offers floor(20 x (1 - 0.05)) = 19 of them
    market = Market(client)
    seller = given_a_sold_out_sku_with_inbound_units(market, "CROWD-64", shipped=20)
    offer = market.offer("CROWD-64")
    assert (offer["buyable"], offer["source"], offer["available_quantity"]) == (
        True,
        "head_start",
        19,
    )

    # When 64 buyers order one unit each at the same instant
    responses = fire_together(
        server_process.base_url,
        64,
        lambda http, i: http.post(
            "/v1/orders", json=order_body("CROWD-64", f"buyer-{i}"), headers=market.storefront
        ),
    )

    # Then exactly 19 are promised and 45 refused as unavailable; no 5xx
    assert Counter(r.status_code for r in responses) == {201: 19, 409: 45}
    refused = [r.json()["error"]["code"] for r in responses if r.status_code == 409]
    assert refused == ["unavailable"] * 45
    placed = [r.json() for r in responses if r.status_code == 201]
    assert len({order["order_id"] for order in placed}) == 19
    assert {(o["status"], o["source"], o["quantity"]) for o in placed} == {
        ("promised", "head_start", 1)
    }
    # One lot, so every promise leans on the same date: the offer's
    assert {o["promise"]["promised_in_stock_date"] for o in placed} == {
        offer["promised_in_stock_date"]
    }

    # And the SKU is sold out of head-start units too, and the report says to whom
    after = market.offer("CROWD-64")
    assert (after["buyable"], after["buyer_state"], after["available_quantity"]) == (
        False,
        "temporarily_out_of_stock",
        0,
    )
    assert after["promised_delivery_date"] is None  # R18: no date without supply
    row = report_row(market, seller, "CROWD-64")
    assert (row["head_start_reserved"], row["head_start_available"]) == (19, 0)
    assert sorted(o["order_id"] for o in row["orders"]) == sorted(o["order_id"] for o in placed)
    server_process.assert_no_server_errors()


def test_r8_concurrent_retries_with_one_idempotency_key_create_one_order(
    server_process: ServerProcess, client: httpx.Client
) -> None:
    # Given a SKU with 19 head-start units
    market = Market(client)
    seller = given_a_sold_out_sku_with_inbound_units(market, "RETRY-16", shipped=20)

    # When one storefront sends the same order 16 times at once with one Idempotency-Key
    headers = {**market.storefront, "Idempotency-Key": "checkout-7f3a"}
    responses = fire_together(
        server_process.base_url,
        16,
        lambda http, _: http.post(
            "/v1/orders", json=order_body("RETRY-16", "buyer-1"), headers=headers
        ),
    )

    # Then one order exists: created once (201), returned as is to every retry (200)
    assert Counter(r.status_code for r in responses) == {201: 1, 200: 15}
    (first,) = [r.json() for r in responses if r.status_code == 201]
    assert all(r.json() == first for r in responses)
    row = report_row(market, seller, "RETRY-16")
    assert row["head_start_reserved"] == 1
    assert [o["order_id"] for o in row["orders"]] == [first["order_id"]]
    assert market.offer("RETRY-16")["available_quantity"] == 18
    server_process.assert_no_server_errors()


def test_r8_concurrent_retries_for_the_last_unit_all_return_the_first_result(
    server_process: ServerProcess, client: httpx.Client
) -> None:
    # (PostgreSQL once answered 409 here: the key was checked before the SKU lock.)
    # Given SKUs with one head-start unit each: floor(2 x 0.95) = 1
    market = Market(client)
    seller = given_a_marketplace(market)
    # The race is narrow (a retry must pass its key check before the first request
    # commits), so it is run a few times, each on a SKU and a key of its own
    for round_ in range(RACE_ROUNDS):
        sku = f"RETRY-LAST-{round_}"
        given_inbound_units(market, seller, sku, shipped=2)
        assert market.offer(sku)["available_quantity"] == 1

        # When the order for it is sent 16 times at once with one Idempotency-Key
        headers = {**market.storefront, "Idempotency-Key": f"checkout-last-unit-{round_}"}
        responses = fire_together(
            server_process.base_url,
            16,
            lambda http, _, sku=sku, headers=headers: http.post(
                "/v1/orders", json=order_body(sku, "buyer-1"), headers=headers
            ),
        )

        # Then every retry gets the first result (the order), never "unavailable":
        # the retry's own unit is the one that is taken
        assert Counter(r.status_code for r in responses) == {201: 1, 200: 15}, [
            r.text for r in responses if r.status_code not in (200, 201)
        ][:3]
        (first,) = [r.json() for r in responses if r.status_code == 201]
        assert all(r.json()["order_id"] == first["order_id"] for r in responses)
        assert report_row(market, seller, sku)["head_start_reserved"] == 1
    server_process.assert_no_server_errors()


# ---------------------------------------------------------------------------
# Receiving and tracking feeds arrive concurrently too (several docks, a
# consumer group and the HTTP path side by side: DESIGN.md section 6).


def receipt_body(receipt_id: str, sku: str, quantity: int) -> dict[str, object]:
    return {
        "receipt_id": receipt_id,
        "received_at": T0,
        "lines": [{"sku": sku, "quantity": quantity}],
    }


def test_r11_concurrent_receipts_for_one_shipment_count_every_unit(
    server_process: ServerProcess, client: httpx.Client
) -> None:
    # (PostgreSQL once recorded 1 of 8 here: a lost update of quantity_received.)
    # Given 20 units shipped, none received
    market = Market(client)
    seller = given_a_sold_out_sku_with_inbound_units(market, "DOCKS", shipped=20)

    # When 8 docks each report 1 unit received, at once, each with its own receipt
    responses = fire_together(
        server_process.base_url,
        8,
        lambda http, i: http.post(
            "/v1/shipments/SH-DOCKS/receipts",
            json=receipt_body(f"dock-{i}", "DOCKS", 1),
            headers=market.operator,
        ),
    )

    # Then all 8 units are counted once: on the shelf, on the shipment line and in R5
    assert [r.status_code for r in responses] == [200] * 8
    assert [r.json()["duplicate"] for r in responses] == [False] * 8
    shipment = expect(client.get("/v1/shipments/SH-DOCKS", headers=market.sellers[seller]), 200)
    assert shipment["lines"] == [{"sku": "DOCKS", "quantity": 20, "quantity_received": 8}]
    row = report_row(market, seller, "DOCKS")
    assert (row["sellable"], row["inbound_receiving"]) == (8, 12)
    assert row["head_start_available"] == 19 - 8  # R5: floor(20 x 0.95) minus what arrived
    server_process.assert_no_server_errors()


def test_r11_concurrent_copies_of_one_receipt_are_recorded_once(
    server_process: ServerProcess, client: httpx.Client
) -> None:
    # (PostgreSQL once answered 500 to 7 of 8 copies: a duplicate-key error.)
    # Given a shipment on its way
    market = Market(client)
    seller = given_a_sold_out_sku_with_inbound_units(market, "RECEIPT-COPIES", shipped=20)

    # When the same receipt arrives 8 times at once (a retrying FC system)
    responses = fire_together(
        server_process.base_url,
        8,
        lambda http, _: http.post(
            "/v1/shipments/SH-RECEIPT-COPIES/receipts",
            json=receipt_body("rcpt-1", "RECEIPT-COPIES", 3),
            headers=market.operator,
        ),
    )

    # Then it is recorded once; every copy is answered, as a duplicate but one
    assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses][:3]
    assert sorted(r.json()["duplicate"] for r in responses) == [False] + [True] * 7
    assert report_row(market, seller, "RECEIPT-COPIES")["sellable"] == 3
    server_process.assert_no_server_errors()


def test_tracking_concurrent_copies_of_one_event_are_applied_once(
    server_process: ServerProcess, client: httpx.Client
) -> None:
    # (PostgreSQL once answered 500 to 7 of 8 copies: a duplicate-key error.)
    # Given a shipment on its way
    market = Market(client)
    given_a_sold_out_sku_with_inbound_units(market, "EVENT-COPIES", shipped=20)

    # When one carrier event is delivered 8 times at once (HTTP and the stream side by side)
    event = {
        "event_id": "carrier-ev-1",
        "shipment_id": "SH-EVENT-COPIES",
        "type": "in_transit",
        "occurred_at": T0,
    }
    responses = fire_together(
        server_process.base_url,
        8,
        lambda http, _: http.post(
            "/v1/tracking-events", json={"events": [event]}, headers=market.operator
        ),
    )

    # Then it is applied once and every copy is answered (R15-style at-least-once delivery)
    assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses][:3]
    bodies = sorted((r.json()["accepted"], r.json()["duplicates"]) for r in responses)
    assert bodies == [([], ["carrier-ev-1"])] * 7 + [(["carrier-ev-1"], [])]
    server_process.assert_no_server_errors()
