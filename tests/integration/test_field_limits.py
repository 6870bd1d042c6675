"""Text the contract accepts is stored whole on both engines, or refused on both.

SQLite ignores VARCHAR lengths and stores NUL characters; PostgreSQL enforces
the one and refuses the other. A column narrower than the API's own limit, or a
NUL let through to the database, is a 5xx on PostgreSQL only: exactly what this
tier is for.
"""

from __future__ import annotations

from tests.integration.checks import (
    adjust,
    assert_error,
    order_of,
    placed,
    set_policy,
    shipment_of,
)
from tests.support import T0, Market, bearer, expect


def test_the_longest_ids_and_texts_round_trip(market: Market) -> None:
    created = expect(
        market.client.post(
            "/v1/sellers",
            json={"name": "N" * 200, "email": "e" * 300 + "@example.com"},
            headers=market.operator,
        ),
        201,
    )
    seller = created["seller_id"]
    market.sellers[seller] = bearer(created["api_key"])
    expect(
        market.client.post(f"/v1/sellers/{seller}/enrollment", headers=market.sellers[seller]), 200
    )
    sku, shipment = "S" * 64, "H" * 64
    market.add_product(seller, sku, title="T" * 300)
    market.add_shipment(seller, shipment, {sku: 100}, shipped_at=T0)
    event = {"event_id": "E" * 128, "shipment_id": shipment, "type": "in_transit"}
    market.events({**event, "occurred_at": T0, "location": "L" * 200})
    order = expect(market.order(sku, 1, buyer="B" * 200, **{"Idempotency-Key": "K" * 200}), 201)

    market.receive(shipment, "R" * 128, T0, {sku: 1})

    assert order_of(market, order["order_id"])["buyer_ref"] == "B" * 200
    assert shipment_of(market, shipment)["lines"][0]["quantity_received"] == 1


def test_the_longest_fc_code_the_contract_allows_is_stored(market: Market) -> None:
    code = "F" * 64

    market.add_fc(code, "UTC")

    codes = [fc["code"] for fc in expect(market.client.get("/v1/fulfillment-centers"), 200)]
    assert code in codes


def test_the_longest_carrier_and_origin_the_contract_allows_are_stored(market: Market) -> None:
    seller = market.add_seller()
    market.add_product(seller, "SKU1")
    body = {
        "shipment_id": "SH1",
        "destination_fc": "LAX1",
        "carrier_program": "partnered_carrier",
        "mode": "ltl",
        "carrier": "C" * 200,
        "origin": "O" * 200,
        "lines": [{"sku": "SKU1", "quantity": 10}],
    }

    view = expect(
        market.client.post("/v1/shipments", json=body, headers=market.sellers[seller]), 201
    )

    assert (view["carrier"], view["origin"]) == ("C" * 200, "O" * 200)


def test_the_longest_adjustment_reason_is_kept_on_the_revision_it_causes(market: Market) -> None:
    set_policy(market, max_slip_days=365)  # so the order is re-promised, not cancelled (R10)
    seller = market.add_seller()
    market.add_product(seller, "SKU1")
    adjust(market, "SKU1", 10)
    market.add_shipment(seller, "SH1", {"SKU1": 100}, shipped_at=T0)
    market.add_shipment(seller, "SH2", {"SKU1": 100}, shipped_at=T0, mode="ocean")
    order = placed(market, "SKU1", 100)  # the shelf's 10 units and SH1's 95
    reason = "water damage found in the cycle count; " * 5

    expect(
        market.client.post(
            "/v1/inventory/adjustments",
            json={"sku": "SKU1", "fc": "LAX1", "delta": -10, "reason": reason},
            headers=market.operator,
        ),
        200,
    )

    [revision] = order_of(market, order["order_id"])["revisions"]
    assert revision["reason"] == f"inventory_adjustment:{reason}"


def test_a_nul_character_in_a_text_field_is_refused_on_both_engines(market: Market) -> None:
    seller = market.add_seller()

    response = market.client.put(
        "/v1/products/SKU1",
        json={"title": "Kettle\u0000", "price": "1.00"},
        headers=market.sellers[seller],
    )

    assert_error(response, 422, "invalid_request")


def test_public_lookups_with_a_nul_character_are_answered_not_a_500(market: Market) -> None:

    offer = market.client.get("/v1/offers/a%00b")
    search = market.client.get("/v1/search", params={"q": "a\x00b"})

    assert offer.status_code in (404, 422), offer.text
    assert search.status_code in (200, 422), search.text
