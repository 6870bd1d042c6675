"""The caller's mistakes get a 4xx with the error shape, and write nothing (DESIGN.md section 5).

Tables of bad requests, one subtest per row; after each table the whole
observable state (outbox, shipments, order, report, offer, policy, clock)
must be exactly what it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.checks import assert_error, build_world, event, state_of
from tests.integration.conftest import AppFactory
from tests.support import OPERATOR_KEY, T0, Market, bearer, expect

NAIVE = "2026-03-02T15:00:00"  # no offset
ORDER = {"sku": "SKU1", "quantity": 1, "region": "us-west", "buyer_ref": "b9"}
SHIPMENT = {
    "shipment_id": "SH9",
    "destination_fc": "LAX1",
    "carrier_program": "partnered_carrier",
    "mode": "parcel",
    "carrier": "UPS",
    "origin": "US-TX",
    "lines": [{"sku": "SKU1", "quantity": 5}],
}
RECEIPT = {"receipt_id": "R9", "received_at": T0, "lines": [{"sku": "SKU1", "quantity": 5}]}
ADJUSTMENT = {"sku": "SKU1", "fc": "LAX1", "delta": 5, "reason": "found"}


@dataclass(frozen=True)
class Bad:
    what: str
    method: str
    path: str
    body: Any
    status: int
    code: str
    field: str | None = None  # for 422s from validation: a field the problems must name
    key: str = "operator"  # operator, seller or storefront


def row(what: str, method: str, path: str, body: Any, status: int = 422, **kw: Any) -> Bad:
    code = kw.pop("code", {404: "not_found", 409: "conflict"}.get(status, "invalid_request"))
    return Bad(what, method, path, body, status, code, **kw)


def events(*items: dict[str, Any]) -> dict[str, Any]:
    return {"events": list(items)}


QUANTITIES = [
    row("order of zero units", "POST", "/v1/orders", {**ORDER, "quantity": 0}, field="quantity",
        key="storefront"),
    row("order of minus one", "POST", "/v1/orders", {**ORDER, "quantity": -1}, field="quantity",
        key="storefront"),
    row("quantity as a string", "POST", "/v1/orders", {**ORDER, "quantity": "3"},
        field="quantity", key="storefront"),
    row("quantity as a fraction", "POST", "/v1/orders", {**ORDER, "quantity": 2.5},
        field="quantity", key="storefront"),
    row("quantity as a boolean", "POST", "/v1/orders", {**ORDER, "quantity": True},
        field="quantity", key="storefront"),
    row("shipment line of zero", "POST", "/v1/shipments",
        {**SHIPMENT, "lines": [{"sku": "SKU1", "quantity": 0}]}, field="quantity", key="seller"),
    row("shipment without lines", "POST", "/v1/shipments", {**SHIPMENT, "lines": []},
        field="lines", key="seller"),
    row("one SKU on two lines", "POST", "/v1/shipments",
        {**SHIPMENT, "lines": [{"sku": "SKU1", "quantity": 1}] * 2}, key="seller"),
    row("negative receipt", "POST", "/v1/shipments/SH1/receipts",
        {**RECEIPT, "lines": [{"sku": "SKU1", "quantity": -4}]}, field="quantity"),
    row("zero adjustment", "POST", "/v1/inventory/adjustments", {**ADJUSTMENT, "delta": 0}),
    row("adjustment as a string", "POST", "/v1/inventory/adjustments",
        {**ADJUSTMENT, "delta": "5"}, field="delta"),
    row("removing more than is on the shelf", "POST", "/v1/inventory/adjustments",
        {**ADJUSTMENT, "delta": -1}, 409),
    row("offer for zero units", "GET", "/v1/offers/SKU1?quantity=0", None, field="quantity"),
    row("offer for 'abc' units", "GET", "/v1/offers/SKU1?quantity=abc", None, field="quantity"),
]  # fmt: skip
UNKNOWN = [
    row("unknown FC", "POST", "/v1/shipments", {**SHIPMENT, "destination_fc": "NOPE1"}, 404,
        key="seller"),
    row("unknown SKU on a shipment", "POST", "/v1/shipments",
        {**SHIPMENT, "lines": [{"sku": "NOPE", "quantity": 1}]}, 404, key="seller"),
    row("order for an unknown SKU", "POST", "/v1/orders", {**ORDER, "sku": "NOPE"}, 404,
        key="storefront"),
    row("offer for an unknown SKU", "GET", "/v1/offers/NOPE", None, 404),
    row("explain an unknown SKU", "GET", "/v1/offers/NOPE/explain", None, 404),
    row("read an unknown shipment", "GET", "/v1/shipments/NOPE", None, 404),
    row("ship an unknown shipment", "POST", "/v1/shipments/NOPE/ship", {"shipped_at": T0}, 404),
    row("receive on an unknown shipment", "POST", "/v1/shipments/NOPE/receipts", RECEIPT, 404),
    row("close an unknown shipment", "POST", "/v1/shipments/NOPE/close", None, 404),
    row("batch naming an unknown shipment", "POST", "/v1/tracking-events",
        events(event("ok1", "SH1", "in_transit", T0), event("bad1", "NOPE", "in_transit", T0)),
        404),
    row("adjustment at an unknown FC", "POST", "/v1/inventory/adjustments",
        {**ADJUSTMENT, "fc": "NOPE1"}, 404),
    row("adjustment of an unknown SKU", "POST", "/v1/inventory/adjustments",
        {**ADJUSTMENT, "sku": "NOPE"}, 404),
    row("read an unknown order", "GET", "/v1/orders/ord_nope", None, 404),
    row("enrollment of an unknown seller", "GET", "/v1/sellers/sel_nope/enrollment", None, 404),
    row("product for an unknown seller", "PUT", "/v1/products/SKUZ",
        {"title": "Z", "price": "1.00", "seller_id": "sel_nope"}, 404),
    row("receipt for a SKU not on the shipment", "POST", "/v1/shipments/SH1/receipts",
        {**RECEIPT, "lines": [{"sku": "SKUB", "quantity": 1}]}),
    row("an unknown path", "GET", "/v1/nothing-here", None, 404),
    row("an unknown method", "DELETE", "/v1/policy", None, 405, code="method_not_allowed"),
]  # fmt: skip
TIMES = [
    row("shipped_at that is not a time", "POST", "/v1/shipments/SH2/ship",
        {"shipped_at": "yesterday"}, field="shipped_at"),
    row("shipped_at without offset", "POST", "/v1/shipments/SH2/ship", {"shipped_at": NAIVE},
        field="shipped_at"),
    row("shipped_at in the future", "POST", "/v1/shipments/SH2/ship",
        {"shipped_at": "2026-03-09T15:00:00+00:00"}),
    row("created_at without offset", "POST", "/v1/shipments", {**SHIPMENT, "created_at": NAIVE},
        field="created_at", key="seller"),
    row("created_at in the future", "POST", "/v1/shipments",
        {**SHIPMENT, "created_at": "2027-01-01T00:00:00+00:00"}, key="seller"),
    row("occurred_at without offset", "POST", "/v1/tracking-events",
        events(event("t1", "SH1", "in_transit", NAIVE)), field="occurred_at"),
    row("carrier_eta that is not a time", "POST", "/v1/tracking-events",
        events(event("t2", "SH1", "eta_update", T0, carrier_eta="2026-13-45T99:00:00Z")),
        field="carrier_eta"),
    row("received_at without offset", "POST", "/v1/shipments/SH1/receipts",
        {**RECEIPT, "received_at": NAIVE}, field="received_at"),
    row("clock set without offset", "POST", "/v1/sandbox/clock", {"now": NAIVE}, field="now"),
    row("clock advanced by negative hours", "POST", "/v1/sandbox/clock", {"advance_hours": -1},
        field="advance_hours"),
    # Found by schemathesis's long hunt: lax mode read false as 0 and moved nothing.
    row("clock advanced by false hours", "POST", "/v1/sandbox/clock",
        {"advance_hours": False, "rate": False}, field="advance_hours"),
]  # fmt: skip
VOCABULARY = [
    row("unknown mode", "POST", "/v1/shipments", {**SHIPMENT, "mode": "rocket"}, field="mode",
        key="seller"),
    row("unknown carrier program", "POST", "/v1/shipments",
        {**SHIPMENT, "carrier_program": "pigeon"}, field="carrier_program", key="seller"),
    row("unknown event type", "POST", "/v1/tracking-events",
        events(event("v1", "SH1", "teleported", T0)), field="type"),
    row("unknown exception reason", "POST", "/v1/tracking-events",
        events(event("v2", "SH1", "exception", T0, reason="stolen")), field="reason"),
    row("unknown report format", "GET", "/v1/reports/inventory?format=xml", None,
        field="format", key="seller"),
    row("unknown time zone", "POST", "/v1/fulfillment-centers",
        {"code": "MRS1", "time_zone": "Mars/Olympus", "region": "mars",
         "outbound_transit_days": {"mars": 1}}),
    row("an e-mail address without @", "POST", "/v1/sellers",
        {"name": "Eve", "email": "eve.example.com"}, field="email"),
    row("a quantile above one", "PATCH", "/v1/policy", {"q": 1.5}, field="q"),
    row("a quantile of true", "PATCH", "/v1/policy", {"q": True}, field="q"),
    # Found by schemathesis's long hunt: an id past 2**63 overflowed the integer (a 500).
    row("an outbox page after an id no database holds", "GET",
        f"/v1/notifications?after_id={2**63}", None, field="after_id"),
]  # fmt: skip
SHAPES = [
    row("unknown field on an order", "POST", "/v1/orders", {**ORDER, "discount": 10},
        field="discount", key="storefront"),
    row("unknown field on a shipment", "POST", "/v1/shipments", {**SHIPMENT, "priority": True},
        field="priority", key="seller"),
    row("unknown field on an event", "POST", "/v1/tracking-events",
        events(event("s1", "SH1", "in_transit", T0, driver="Bob")), field="driver"),
    row("unknown policy knob", "PATCH", "/v1/policy", {"q_hi": 0.99}, field="q_hi"),
    row("missing required field", "POST", "/v1/orders", {"sku": "SKU1", "quantity": 1},
        field="region", key="storefront"),
    row("an array where an object belongs", "POST", "/v1/orders", [ORDER], key="storefront"),
    row("malformed JSON", "POST", "/v1/orders", b'{"sku": "SKU1",', key="storefront"),
    row("an empty tracking batch", "POST", "/v1/tracking-events", {"events": []},
        field="events"),
]  # fmt: skip


@pytest.fixture
def world(market: Market) -> dict[str, str]:
    return build_world(market)


def send(market: Market, world: dict[str, str], bad: Bad):
    headers = {
        "operator": market.operator,
        "seller": market.sellers[world["seller"]],
        "storefront": market.storefront,
    }[bad.key]
    if isinstance(bad.body, bytes):
        headers = {**headers, "Content-Type": "application/json"}
        return market.client.request(bad.method, bad.path, content=bad.body, headers=headers)
    return market.client.request(bad.method, bad.path, json=bad.body, headers=headers)


def refuse_all(market: Market, world: dict[str, str], subtests: Any, table: list[Bad]) -> None:
    before = state_of(market, world)
    for bad in table:
        with subtests.test(msg=bad.what):
            error = assert_error(send(market, world, bad), bad.status, bad.code)
            if bad.field is not None:
                locations = [p["location"] for p in error["details"]["problems"]]
                assert any(bad.field in location for location in locations), locations
    assert state_of(market, world) == before


def test_zero_negative_and_mistyped_quantities_are_refused(
    market: Market, world: dict, subtests: Any
) -> None:
    refuse_all(market, world, subtests, QUANTITIES)


def test_unknown_fcs_skus_shipments_and_orders_are_404(
    market: Market, world: dict, subtests: Any
) -> None:
    refuse_all(market, world, subtests, UNKNOWN)
    # The valid event of the refused batch was not recorded either.
    assert market.events(event("ok1", "SH1", "in_transit", T0))["accepted"] == ["ok1"]


def test_malformed_naive_and_impossible_timestamps_are_refused(
    market: Market, world: dict, subtests: Any
) -> None:
    refuse_all(market, world, subtests, TIMES)


def test_values_outside_the_vocabularies_are_refused(
    market: Market, world: dict, subtests: Any
) -> None:
    refuse_all(market, world, subtests, VOCABULARY)


def test_unknown_fields_and_malformed_bodies_are_refused(
    market: Market, world: dict, subtests: Any
) -> None:
    refuse_all(market, world, subtests, SHAPES)


def test_an_oversized_body_is_413_and_writes_nothing(
    market: Market, world: dict, make_client: AppFactory
) -> None:
    small = make_client(max_body_bytes=2048)
    batch = events(*(event(f"big{i}", "SH1", "in_transit", T0) for i in range(40)))
    before = state_of(market, world)

    response = small.post("/v1/tracking-events", json=batch, headers=bearer(OPERATOR_KEY))

    error = assert_error(response, 413, "payload_too_large")
    assert error["details"] == {"max_bytes": 2048}
    assert state_of(market, world) == before
    assert expect(small.get("/v1/offers/SKU1"), 200) == market.offer("SKU1")
