"""A tiny marketplace driver over HTTP, shared by the integration and e2e tiers.

Works with FastAPI's TestClient and with ``httpx.Client`` pointed at a real server.
Every helper asserts the status it expects, so a test fails where the setup broke.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

OPERATOR_KEY = "test-operator-key"
T0 = "2026-03-02T15:00:00+00:00"  # a Monday, off-peak, 07:00 in Los Angeles


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def expect(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return (
        response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else response.text
    )


@dataclass
class Market:
    """One marketplace under test: its client, keys and what was created in it."""

    client: httpx.Client | Any
    operator: dict[str, str] = field(default_factory=lambda: bearer(OPERATOR_KEY))
    storefront: dict[str, str] = field(default_factory=dict)
    sellers: dict[str, dict[str, str]] = field(default_factory=dict)  # seller_id -> headers

    def set_clock(self, now: str | datetime) -> Any:
        value = now.isoformat() if isinstance(now, datetime) else now
        return expect(
            self.client.post("/v1/sandbox/clock", json={"now": value}, headers=self.operator), 200
        )

    def advance(self, hours: float) -> Any:
        return expect(
            self.client.post(
                "/v1/sandbox/clock", json={"advance_hours": hours}, headers=self.operator
            ),
            200,
        )

    def add_fc(
        self, code: str = "LAX1", time_zone: str = "America/Los_Angeles", **extra: Any
    ) -> Any:
        body = {
            "code": code,
            "time_zone": time_zone,
            "region": extra.pop("region", "us-west"),
            "handling_days": 1,
            "cutoff_local_time": "14:00",
            "outbound_transit_days": {"us-west": 2, "us-east": 5},
            **extra,
        }
        return expect(
            self.client.post("/v1/fulfillment-centers", json=body, headers=self.operator), 201
        )

    def add_storefront(self, name: str = "shop") -> dict[str, str]:
        key = expect(
            self.client.post("/v1/storefront-keys", json={"name": name}, headers=self.operator), 201
        )["api_key"]
        self.storefront = bearer(key)
        return self.storefront

    def add_seller(self, name: str = "Acme", *, enroll: bool = True) -> str:
        created = expect(
            self.client.post(
                "/v1/sellers",
                json={"name": name, "email": f"{name.lower()}@example.com"},
                headers=self.operator,
            ),
            201,
        )
        seller_id = created["seller_id"]
        self.sellers[seller_id] = bearer(created["api_key"])
        if enroll:
            expect(
                self.client.post(
                    f"/v1/sellers/{seller_id}/enrollment", headers=self.sellers[seller_id]
                ),
                200,
            )
        return seller_id

    def add_product(self, seller_id: str, sku: str, **extra: Any) -> Any:
        body = {"title": extra.pop("title", f"Product {sku}"), "price": "19.99", **extra}
        return expect(
            self.client.put(f"/v1/products/{sku}", json=body, headers=self.sellers[seller_id]), 201
        )

    def add_shipment(
        self,
        seller_id: str,
        shipment_id: str,
        lines: dict[str, int],
        *,
        fc: str = "LAX1",
        program: str = "partnered_carrier",
        mode: str = "parcel",
        created_at: str | None = None,
        shipped_at: str | None = None,
    ) -> Any:
        body: dict[str, Any] = {
            "shipment_id": shipment_id,
            "destination_fc": fc,
            "carrier_program": program,
            "mode": mode,
            "carrier": "UPS",
            "tracking_ids": [f"1Z{shipment_id}"],
            "origin": "US-TX",
            "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines.items()],
        }
        if created_at:
            body["created_at"] = created_at
        view = expect(
            self.client.post("/v1/shipments", json=body, headers=self.sellers[seller_id]), 201
        )
        if shipped_at:
            view = self.ship(seller_id, shipment_id, shipped_at)
        return view

    def ship(self, seller_id: str, shipment_id: str, shipped_at: str) -> Any:
        return expect(
            self.client.post(
                f"/v1/shipments/{shipment_id}/ship",
                json={"shipped_at": shipped_at},
                headers=self.sellers[seller_id],
            ),
            200,
        )

    def offer(self, sku: str, region: str = "us-west", quantity: int = 1) -> Any:
        return expect(
            self.client.get(f"/v1/offers/{sku}", params={"region": region, "quantity": quantity}),
            200,
        )

    def order(
        self,
        sku: str,
        quantity: int = 1,
        region: str = "us-west",
        buyer: str = "b1",
        **headers: str,
    ) -> httpx.Response:
        return self.client.post(
            "/v1/orders",
            json={"sku": sku, "quantity": quantity, "region": region, "buyer_ref": buyer},
            headers={**self.storefront, **headers},
        )

    def events(self, *events: dict[str, Any]) -> Any:
        return expect(
            self.client.post(
                "/v1/tracking-events", json={"events": list(events)}, headers=self.operator
            ),
            200,
        )

    def receive(self, shipment_id: str, receipt_id: str, at: str, lines: dict[str, int]) -> Any:
        body = {
            "receipt_id": receipt_id,
            "received_at": at,
            "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines.items()],
        }
        return expect(
            self.client.post(
                f"/v1/shipments/{shipment_id}/receipts", json=body, headers=self.operator
            ),
            200,
        )

    def close(self, shipment_id: str) -> Any:
        return expect(
            self.client.post(f"/v1/shipments/{shipment_id}/close", headers=self.operator), 200
        )

    def notifications(self, kind: str | None = None) -> list[dict[str, Any]]:
        params = {"kind": kind, "limit": 1000} if kind else {"limit": 1000}
        return expect(
            self.client.get("/v1/notifications", params=params, headers=self.operator), 200
        )["notifications"]
