"""Several processes on one PostgreSQL and one NATS stream (issue 8).

Each API process keeps the offers it answered (``services/offer_cache.py``) until a
commit changes them: every transaction NOTIFYs the SKUs it changed, each process
listens, and before answering from memory it makes sure it has heard every commit made
before the request. So an order placed through one process is in the very next offer
from another, whichever process warmed its in-stock model first and whatever either
keeps. ``headstart serve --workers N`` answers from N processes on one port and
``/metrics`` counts them all. Two ``headstart worker`` processes share one durable
consumer: every tracking event is applied once, by one of them.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import nats
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from headstart.workers.tracking_streams import Topology
from tests.e2e.server import ServerProcess, free_port
from tests.e2e.worker import WorkerProcess, worker_env
from tests.nats_server import consumer_backlog, delete_streams, nats_test_url, unique_topology
from tests.pg import temporary_database
from tests.support import OPERATOR_KEY, T0, Market, bearer, expect

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300)]

START = datetime.fromisoformat(T0)
# Two processes importing the app side by side on a busy CI machine take a while.
MULTI_STARTUP_SECONDS = 90.0


@pytest.fixture
def database() -> Iterator[str]:
    with temporary_database() as url:
        yield url


def given_head_start_units(market: Market, sku: str, shipped: int) -> str:
    """The clock at T0, LAX1, a storefront, and ``shipped`` units of ``sku`` on the way."""
    market.set_clock(T0)
    market.add_fc()
    market.add_storefront()
    seller = market.add_seller()
    market.add_product(seller, sku)
    market.add_shipment(seller, f"SH-{sku}", {sku: shipped}, shipped_at=T0)
    return seller


def metric_values(base_url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = expect(httpx.get(f"{base_url}/metrics", headers=bearer(OPERATOR_KEY)), 200)
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_an_order_through_one_process_is_in_the_next_offer_from_another(
    database: str, tmp_path: Path
) -> None:
    # given two API processes on one PostgreSQL database, both having answered an offer
    # (so both hold a warm in-stock model and keep the offer in memory)
    first = ServerProcess(database, tmp_path / "first.log")
    second = ServerProcess(database, tmp_path / "second.log")
    first.start()
    try:
        second.start()
        try:
            with first.client() as one, second.client() as two:
                market_one, market_two = Market(one), Market(two)
                given_head_start_units(market_one, "HOT-1", shipped=40)  # R5: 38 offered
                market_two.storefront = market_one.storefront
                # (twice, a moment apart: each process keeps offers once it listens)
                for _ in range(2):
                    assert market_one.offer("HOT-1")["available_quantity"] == 38
                    assert market_two.offer("HOT-1")["available_quantity"] == 38
                    time.sleep(0.5)

                # when orders alternate between the processes, each read from the other
                available = 38
                for n in range(6):
                    placing, reading = (
                        (market_one, market_two) if n % 2 == 0 else (market_two, market_one)
                    )
                    assert placing.order("HOT-1", 3, buyer=f"b{n}").status_code == 201
                    available -= 3

                    # then the other process's next offer already counts it (R6)
                    assert reading.offer("HOT-1")["available_quantity"] == available
                # ... and an order for more than is left is refused by either
                assert market_two.order("HOT-1", available + 1).status_code == 409
                assert market_one.order("HOT-1", available).status_code == 201
                assert market_two.offer("HOT-1")["buyable"] is False
        finally:
            second.stop()
    finally:
        first.stop()
    first.assert_no_server_errors()
    second.assert_no_server_errors()


def _served_by(metrics_dir: Path) -> set[str]:
    """Processes that recorded a request: prometheus-client's files are named by pid."""
    return {path.stem.rsplit("_", 1)[-1] for path in metrics_dir.glob("histogram_*.db")}


def test_serve_with_two_workers_answers_from_both_and_counts_both_in_metrics(
    database: str, tmp_path: Path
) -> None:
    # given `headstart serve --workers 2` with its metrics directory where we can see it
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    server = ServerProcess(
        database,
        tmp_path / "server.log",
        args=["--workers", "2"],
        env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
        startup_seconds=MULTI_STARTUP_SECONDS,
    )
    server.start()
    try:
        with server.client() as client:
            market = Market(client)
            given_head_start_units(market, "HOT-2", shipped=200)
        requests = 0
        offers: list[int] = []
        deadline = time.monotonic() + MULTI_STARTUP_SECONDS
        # when requests come on fresh connections until both processes have answered some
        # (the second may still be starting when the first answers /healthz)
        while requests == 0 or len(_served_by(metrics_dir)) < 2:
            assert time.monotonic() < deadline, f"one process answered everything:\n{server.log()}"
            threads = [
                threading.Thread(
                    target=lambda: offers.append(
                        expect(httpx.get(f"{server.base_url}/v1/offers/HOT-2", timeout=60), 200)[
                            "available_quantity"
                        ]
                    )
                )
                for _ in range(8)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            requests += len(threads)

        # then every offer was the same, and /metrics from either process counts them all
        assert set(offers) == {190}
        count = metric_values(server.base_url)[
            (
                "headstart_http_request_duration_seconds_count",
                frozenset({"method": "GET", "route": "/v1/offers/{sku}", "status": "2xx"}.items()),
            )
        ]
        assert count == requests
        assert (
            metric_values(server.base_url)[
                ("headstart_offers_total", frozenset({("outcome", "head_start")}))
            ]
            == requests
        )
    finally:
        server.stop()
    server.assert_no_server_errors()


# ------------------------------------------------------------------ two workers, one stream

SHIPMENTS = 10
EVENTS_PER_SHIPMENT = 60  # 600 events in all


class MeteredWorker(WorkerProcess):
    """A ``headstart worker`` serving its own /metrics on a port of its own."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.metrics_port = free_port()
        super().__init__(
            env,
            log_path,
            args=("--metrics-port", str(self.metrics_port)),
            startup_seconds=MULTI_STARTUP_SECONDS,
        )

    def applied(self) -> float:
        """Tracking events this worker recorded (its lag histogram counts one per event)."""
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=30).text
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "headstart_tracking_event_lag_seconds_count"
            and sample.labels.get("via") == "nats"
        )


@pytest.fixture
def topology() -> Iterator[Topology]:
    topology = unique_topology()
    yield topology
    asyncio.run(delete_streams(topology))


def tracking_events() -> list[dict[str, Any]]:
    """Interleaved across shipments, as carriers' feeds arrive; the last one delivers."""
    last = EVENTS_PER_SHIPMENT - 1
    return [
        {
            "event_id": f"SH-{n:02d}-{step:03d}",
            "shipment_id": f"SH-{n:02d}",
            "type": "delivered" if step == last else "in_transit",
            "occurred_at": (START + timedelta(minutes=step)).isoformat(),
        }
        for step in range(EVENTS_PER_SHIPMENT)
        for n in range(SHIPMENTS)
    ]


async def publish(topology: Topology, events: list[dict[str, Any]]) -> None:
    connection = await nats.connect(nats_test_url())
    try:
        js = connection.jetstream()
        for item in events:
            await js.publish_async(topology.tracking_subject("LAX1"), json.dumps(item).encode())
        await js.publish_async_completed()
    finally:
        await connection.close()


async def backlog(topology: Topology) -> tuple[int, int]:
    connection = await nats.connect(nats_test_url())
    try:
        return await consumer_backlog(connection.jetstream(), topology)
    finally:
        await connection.close()


def recorded(database: str) -> tuple[int, int]:
    url = make_url(database)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database
    ) as connection:
        row = connection.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM tracking_events"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


@pytest.mark.nats
def test_two_workers_share_one_stream_and_apply_each_event_once(
    database: str, tmp_path: Path, topology: Topology
) -> None:
    # given shipments with head-start orders waiting on them, on PostgreSQL
    api = ServerProcess(database, tmp_path / "api.log")
    api.start()
    try:
        with api.client() as client:
            market = Market(client)
            market.set_clock(T0)
            market.add_fc()
            market.add_storefront()
            seller = market.add_seller()
            for n in range(SHIPMENTS):
                market.add_product(seller, f"SKU-{n:02d}")
                market.add_shipment(seller, f"SH-{n:02d}", {f"SKU-{n:02d}": 20}, shipped_at=T0)
                assert market.order(f"SKU-{n:02d}").status_code == 201
            market.set_clock(START + timedelta(days=1))  # every event below lies in the past
    finally:
        api.stop()
    api.assert_no_server_errors()
    # many small batches, so both take turns
    env = worker_env(database, topology, tracking_batch_size="10")
    workers = [MeteredWorker(env, tmp_path / f"worker-{i}.log") for i in (1, 2)]
    for worker in workers:
        worker.start()  # side by side: their imports overlap
    try:
        for worker in workers:
            worker.wait_consuming()

        # when the events are published to the one stream both consume
        events = tracking_events()
        asyncio.run(publish(topology, events))
        deadline = time.monotonic() + 180
        while recorded(database)[0] < len(events) or asyncio.run(backlog(topology)) != (0, 0):
            assert time.monotonic() < deadline, [w.log() for w in workers]
            time.sleep(0.2)

        # then each was recorded once, each worker applied a share, and the shares add up
        assert recorded(database) == (len(events), len(events))
        shares = [worker.applied() for worker in workers]
        assert all(share > 0 for share in shares), shares
        assert sum(shares) == len(events), shares
    finally:
        codes = [worker.stop() for worker in workers]
    assert codes == [0, 0], [w.log() for w in workers]
