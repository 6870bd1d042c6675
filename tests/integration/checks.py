"""Reading the marketplace back over HTTP, and the assertions every module shares."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.support import T0, Market, expect


def at(base: str, *, hours: float = 0) -> str:
    """An ISO 8601 instant ``hours`` after ``base``, with its offset."""
    return (datetime.fromisoformat(base) + timedelta(hours=hours)).isoformat()


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """DESIGN.md section 5: errors are ``{"error": {"code", "message", "details"}}``."""
    body = expect(response, status)
    assert isinstance(body, dict), body
    assert list(body) == ["error"], body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    return dict(error)


def order_of(market: Market, order_id: str) -> dict[str, Any]:
    return expect(market.client.get(f"/v1/orders/{order_id}", headers=market.storefront), 200)


def shipment_of(market: Market, shipment_id: str) -> dict[str, Any]:
    return expect(market.client.get(f"/v1/shipments/{shipment_id}", headers=market.operator), 200)


def enrollment_of(market: Market, seller_id: str) -> dict[str, Any]:
    return expect(
        market.client.get(f"/v1/sellers/{seller_id}/enrollment", headers=market.sellers[seller_id]),
        200,
    )


def report_of(market: Market, seller_id: str) -> dict[str, Any]:
    return expect(
        market.client.get("/v1/reports/inventory", headers=market.sellers[seller_id]), 200
    )


def row_of(market: Market, seller_id: str, sku: str, fc: str = "LAX1") -> dict[str, Any]:
    rows = [r for r in report_of(market, seller_id)["rows"] if (r["sku"], r["fc"]) == (sku, fc)]
    assert len(rows) == 1, rows
    return rows[0]


def kinds(market: Market) -> list[str]:
    """The outbox, oldest first, as a list of notification kinds."""
    return [n["kind"] for n in market.notifications()]


def placed(market: Market, sku: str, quantity: int = 1, buyer: str = "b1") -> dict[str, Any]:
    """Place an order that must be accepted."""
    return expect(market.order(sku, quantity, buyer=buyer), 201)


def adjust(market: Market, sku: str, delta: int, fc: str = "LAX1") -> dict[str, Any]:
    body = {"sku": sku, "fc": fc, "delta": delta, "reason": "cycle_count"}
    return expect(
        market.client.post("/v1/inventory/adjustments", json=body, headers=market.operator), 200
    )


def event(
    event_id: str, shipment_id: str, kind: str, occurred_at: str, **extra: Any
) -> dict[str, Any]:
    """One tracking event as the carrier integrations send it."""
    return {
        "event_id": event_id,
        "shipment_id": shipment_id,
        "type": kind,
        "occurred_at": occurred_at,
        **extra,
    }


def set_policy(market: Market, **changes: Any) -> dict[str, Any]:
    return expect(market.client.patch("/v1/policy", json=changes, headers=market.operator), 200)


def build_world(market: Market) -> dict[str, str]:
    """Seller A (SKU1; SH1 shipped, SH2 working) with one head-start order; seller B (SKUB)."""
    seller_a = market.add_seller("Acme")
    market.add_product(seller_a, "SKU1", title="Blue kettle")
    market.add_shipment(seller_a, "SH1", {"SKU1": 100}, shipped_at=T0)
    market.add_shipment(seller_a, "SH2", {"SKU1": 10})
    order = placed(market, "SKU1", 2)
    seller_b = market.add_seller("Bolt")
    market.add_product(seller_b, "SKUB", title="Red kettle")
    market.add_shipment(seller_b, "SHB", {"SKUB": 30}, shipped_at=T0)
    return {"seller": seller_a, "other_seller": seller_b, "order": order["order_id"]}


def state_of(market: Market, world: dict[str, str]) -> list[Any]:
    """Everything a refused request in the world above could have changed."""
    get = market.client.get
    return [
        market.notifications(),
        expect(get("/v1/policy", headers=market.operator), 200),
        expect(get("/v1/sandbox/clock"), 200),
        expect(get("/v1/fulfillment-centers"), 200),
        expect(get(f"/v1/sellers/{world['seller']}/enrollment", headers=market.operator), 200),
        shipment_of(market, "SH1"),
        shipment_of(market, "SH2"),
        shipment_of(market, "SHB"),
        order_of(market, world["order"]),
        report_of(market, world["seller"]),
        market.offer("SKU1"),
    ]
