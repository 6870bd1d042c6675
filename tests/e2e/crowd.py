"""Many clients firing at one real server at the same instant (R8)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e.server import CLIENT_TIMEOUT

BARRIER_SECONDS = 30.0

Send = Callable[[httpx.Client, int], httpx.Response]


def fire_together(base_url: str, count: int, send: Send) -> list[httpx.Response]:
    """Run ``send(client, i)`` for i in range(count), each in its own thread with its own client.

    Every thread first makes a request that reads the database, so the server's worker
    threads and database connections are warm rather than opened one by one under the
    burst; then all wait at a barrier and fire together. The burst uses fresh
    connections: a warm-up connection could sit idle at the barrier past the server's
    keep-alive timeout (uvicorn: 5 s) on a loaded machine and be reset under the request.
    """
    barrier = threading.Barrier(count)

    def one(index: int) -> httpx.Response:
        try:
            with httpx.Client(base_url=base_url, timeout=CLIENT_TIMEOUT) as warm_up:
                warm_up.get("/v1/sandbox/clock").raise_for_status()
        finally:
            barrier.wait(BARRIER_SECONDS)  # never leave the others waiting
        with httpx.Client(base_url=base_url, timeout=CLIENT_TIMEOUT) as client:
            return send(client, index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def order_body(
    sku: str, buyer: str, quantity: int = 1, region: str = "us-west"
) -> dict[str, object]:
    return {"sku": sku, "quantity": quantity, "region": region, "buyer_ref": buyer}
