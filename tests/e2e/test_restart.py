"""A server that crashes loses nothing it accepted (R8: a 201 is a commitment)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.e2e.crowd import order_body
from tests.e2e.server import CLIENT_TIMEOUT, ServerProcess
from tests.support import T0, Market, expect

pytestmark = pytest.mark.e2e

BUYER_THREADS = 8
KILL_AFTER_ACCEPTED = 8  # of the SKU's 19 head-start units, so orders are still in flight


def test_server_restart_keeps_accepted_orders(
    server_process: ServerProcess, client: httpx.Client
) -> None:
    # Given a sold-out SKU with 19 head-start units (20 shipped, R5)
    market = Market(client)
    market.set_clock(T0)
    market.add_fc()
    storefront = market.add_storefront()
    seller = market.add_seller()
    market.add_product(seller, "CRASH")
    market.add_shipment(seller, "SH-CRASH", {"CRASH": 20}, shipped_at=T0)

    # When buyers keep ordering and the server is SIGKILLed while orders are in flight
    accepted: list[tuple[str, dict[str, Any]]] = []  # (Idempotency-Key, 201 body)
    lock = threading.Lock()
    enough = threading.Event()

    def buyer(thread: int) -> None:
        with httpx.Client(base_url=server_process.base_url, timeout=CLIENT_TIMEOUT) as http:
            for attempt in range(10):
                key = f"crash-{thread}-{attempt}"
                try:
                    response = http.post(
                        "/v1/orders",
                        json=order_body("CRASH", f"buyer-{thread}-{attempt}"),
                        headers={**storefront, "Idempotency-Key": key},
                    )
                except httpx.TransportError:
                    return  # the server is gone
                assert response.status_code in (201, 409), response.text
                if response.status_code == 201:
                    with lock:
                        accepted.append((key, response.json()))
                        if len(accepted) >= KILL_AFTER_ACCEPTED:
                            enough.set()

    with ThreadPoolExecutor(BUYER_THREADS) as pool:
        buyers = [pool.submit(buyer, n) for n in range(BUYER_THREADS)]
        assert enough.wait(60), "the buyers never got enough orders accepted"
        assert server_process.kill() == -9  # SIGKILL: no shutdown, nothing flushed on the way
        for done in buyers:
            done.result()
    assert len(accepted) >= KILL_AFTER_ACCEPTED

    # Then, started again on the same database, every accepted order is there as promised
    server_process.start()
    with server_process.client() as http:
        assert expect(http.get("/v1/sandbox/clock"), 200)["now"] == T0  # the clock is stored too
        for key, placed in accepted:
            stored = expect(http.get(f"/v1/orders/{placed['order_id']}", headers=storefront), 200)
            assert stored == placed
            # R8: the retry a client sends after the crash returns the first result
            retry = http.post(
                "/v1/orders",
                json=order_body("CRASH", placed["buyer_ref"]),
                headers={**storefront, "Idempotency-Key": key},
            )
            assert (retry.status_code, retry.json()) == (200, placed)

        # R6 still holds: orders that committed without their answer reaching the
        # client (in flight at the kill) may exist too, but never more than 19 units
        report = expect(http.get("/v1/reports/inventory", headers=market.sellers[seller]), 200)
        orders = {o["order_id"] for o in report["head_start_orders"]}
        assert {placed["order_id"] for _, placed in accepted} <= orders
        (row,) = report["rows"]
        assert row["head_start_reserved"] == len(orders) <= 19
        offer = expect(http.get("/v1/offers/CRASH", params={"region": "us-west"}), 200)
        assert offer["available_quantity"] == 19 - len(orders)
    server_process.assert_no_server_errors()
