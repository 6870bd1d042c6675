"""Who may call what (DESIGN.md section 5, Auth): a table of every protected endpoint.

Each table runs as one test per engine with a subtest per row, so a refusal
that leaks shows up as the one endpoint that leaked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.checks import assert_error, build_world, state_of
from tests.support import T0, Market, bearer, expect

OPERATOR, SELLER, STOREFRONT = "operator", "seller", "storefront"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {seller} and {order} are filled in from the world below
    role: str  # the narrowest role it is for (the operator may call everything)
    body: Any = None

    def call(self, market: Market, world: dict[str, str], headers: dict[str, str]):
        return market.client.request(
            self.method, self.path.format(**world), json=self.body, headers=headers
        )

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


LINE = [{"sku": "SKU1", "quantity": 1}]
FC = {"code": "SEA1", "time_zone": "UTC", "region": "us-west", "outbound_transit_days": {}}
ADJUSTMENT = {"sku": "SKU1", "fc": "LAX1", "delta": 50, "reason": "found"}
LOSS = {"event_id": "evil", "shipment_id": "SH1", "type": "exception", "occurred_at": T0}
RECEIPT = {"receipt_id": "R1", "received_at": T0, "lines": LINE}
SHIPMENT = {
    "shipment_id": "SHX",
    "destination_fc": "LAX1",
    "carrier_program": "partnered_carrier",
    "mode": "parcel",
    "carrier": "UPS",
    "origin": "US-TX",
    "lines": LINE,
}
ORDER = {"sku": "SKU1", "quantity": 1, "region": "us-west", "buyer_ref": "x"}
ENDPOINTS = [
    Endpoint("POST", "/v1/fulfillment-centers", OPERATOR, FC),
    Endpoint("POST", "/v1/sellers", OPERATOR, {"name": "Mallory", "email": "m@example.com"}),
    Endpoint("POST", "/v1/storefront-keys", OPERATOR, {"name": "rogue"}),
    Endpoint("POST", "/v1/inventory/adjustments", OPERATOR, ADJUSTMENT),
    Endpoint("POST", "/v1/tracking-events", OPERATOR, {"events": [LOSS]}),
    Endpoint("POST", "/v1/shipments/SH1/receipts", OPERATOR, RECEIPT),
    Endpoint("POST", "/v1/shipments/SH1/close", OPERATOR),
    Endpoint("GET", "/v1/offers/SKU1/explain", OPERATOR),
    Endpoint("GET", "/v1/notifications", OPERATOR),
    Endpoint("GET", "/v1/policy", OPERATOR),
    Endpoint("GET", "/v1/estimator", OPERATOR),
    Endpoint("POST", "/v1/estimator/refit", OPERATOR),
    Endpoint("PATCH", "/v1/policy", OPERATOR, {"admit_own_carrier": True}),
    Endpoint("POST", "/v1/sandbox/clock", OPERATOR, {"advance_hours": 1000}),
    Endpoint("GET", "/v1/sellers/{seller}/enrollment", SELLER),
    Endpoint("POST", "/v1/sellers/{seller}/enrollment", SELLER),
    Endpoint("POST", "/v1/sellers/{seller}/enrollment/opt-out", SELLER),
    Endpoint("PUT", "/v1/products/SKU1", SELLER, {"title": "Hijacked", "price": "0.01"}),
    Endpoint("POST", "/v1/shipments", SELLER, SHIPMENT),
    Endpoint("POST", "/v1/shipments/SH2/ship", SELLER, {"shipped_at": T0}),
    Endpoint("GET", "/v1/shipments/SH1", SELLER),
    Endpoint("GET", "/v1/reports/inventory?seller_id={seller}", SELLER),
    Endpoint("POST", "/v1/orders", STOREFRONT, ORDER),
    Endpoint("GET", "/v1/orders/{order}", STOREFRONT),
    Endpoint("POST", "/v1/orders/{order}/cancel", STOREFRONT),
    Endpoint("POST", "/v1/orders/{order}/confirm-delay", STOREFRONT),
]
PUBLIC = ["/healthz", "/v1/offers/SKU1", "/v1/search?q=kettle", "/v1/fulfillment-centers"]


@pytest.fixture
def world(market: Market) -> dict[str, str]:
    return build_world(market)


def refuse_all(
    market: Market,
    world: dict[str, str],
    subtests: Any,
    rows: list[Endpoint],
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    before = state_of(market, world)
    for endpoint in rows:
        with subtests.test(msg=str(endpoint)):
            assert_error(endpoint.call(market, world, headers), status, code)
    assert state_of(market, world) == before


def test_requests_without_a_key_are_401(market: Market, world: dict, subtests: Any) -> None:
    refuse_all(market, world, subtests, ENDPOINTS, {}, 401, "unauthenticated")


def test_requests_with_an_unknown_key_are_401(market: Market, world: dict, subtests: Any) -> None:
    refuse_all(market, world, subtests, ENDPOINTS, bearer("hs_sel_forged"), 401, "unauthenticated")


def test_a_401_asks_for_a_bearer_key(market: Market, world: dict) -> None:
    response = market.client.get("/v1/notifications", headers={"Authorization": "Basic YTpi"})

    assert_error(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


def test_storefront_key_is_refused_on_seller_and_operator_endpoints(
    market: Market, world: dict, subtests: Any
) -> None:
    rows = [e for e in ENDPOINTS if e.role != STOREFRONT]
    refuse_all(market, world, subtests, rows, market.storefront, 403, "forbidden")


def test_seller_key_is_refused_on_operator_and_storefront_endpoints(
    market: Market, world: dict, subtests: Any
) -> None:
    rows = [e for e in ENDPOINTS if e.role != SELLER]
    refuse_all(market, world, subtests, rows, market.sellers[world["seller"]], 403, "forbidden")


def test_public_endpoints_need_no_key(market: Market, world: dict, subtests: Any) -> None:
    for path in PUBLIC:
        with subtests.test(msg=path):
            expect(market.client.get(path), 200)


def test_a_seller_key_never_reaches_another_sellers_data(
    market: Market, world: dict, subtests: Any
) -> None:
    """Seller B's key against seller A's enrollment, shipments, product and report."""
    b = market.sellers[world["other_seller"]]
    seller_a = world["seller"]
    attempts = {
        "read A's enrollment": ("GET", f"/v1/sellers/{seller_a}/enrollment", None),
        "opt A out": ("POST", f"/v1/sellers/{seller_a}/enrollment/opt-out", None),
        "read A's shipment": ("GET", "/v1/shipments/SH1", None),
        "ship A's shipment": ("POST", "/v1/shipments/SH2/ship", {"shipped_at": T0}),
        "take over A's SKU": ("PUT", "/v1/products/SKU1", {"title": "Mine", "price": "1.00"}),
        "ship A's SKU": ("POST", "/v1/shipments", SHIPMENT),
        "create a shipment as A": ("POST", "/v1/shipments", {**SHIPMENT, "seller_id": seller_a}),
        "read A's report": ("GET", f"/v1/reports/inventory?seller_id={seller_a}", None),
    }
    before = state_of(market, world)
    for what, (method, path, body) in attempts.items():
        with subtests.test(msg=what):
            response = market.client.request(method, path, json=body, headers=b)
            assert response.status_code in (403, 404), response.text
            code = {403: "forbidden", 404: "not_found"}[response.status_code]
            assert_error(response, response.status_code, code)
    assert state_of(market, world) == before
    assert market.client.get("/v1/shipments/SHX", headers=market.operator).status_code == 404


def test_a_storefront_cannot_see_or_touch_another_storefronts_order(
    market: Market, world: dict, subtests: Any
) -> None:
    mine = market.storefront
    other = market.add_storefront("other-shop")
    market.storefront = mine
    before = state_of(market, world)
    for method, suffix in (("GET", ""), ("POST", "/cancel"), ("POST", "/confirm-delay")):
        with subtests.test(msg=f"{method} /v1/orders/{{order}}{suffix}"):
            response = market.client.request(
                method, f"/v1/orders/{world['order']}{suffix}", headers=other
            )
            assert_error(response, 404, "not_found")
    assert state_of(market, world) == before
