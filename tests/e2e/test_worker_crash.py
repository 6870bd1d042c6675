"""``headstart worker`` killed mid-stream and restarted: nothing lost, nothing applied twice.

A real worker subprocess, on SQLite and on PostgreSQL, consumes 10,000 tracking events
published to real NATS JetStream (acknowledged publishes). It is killed with SIGKILL while
it applies them, restarted, and finally stopped with SIGTERM. Every event must be
recorded exactly once and every shipment must stand where its newest event put it.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from headstart.api.app import create_app
from headstart.bootstrap import build_runtime
from headstart.config import Settings
from headstart.workers.tracking_streams import Topology
from tests.e2e.conftest import _database
from tests.e2e.worker import WorkerProcess, worker_env
from tests.nats_server import (
    consumer_backlog,
    dead_letters,
    delete_streams,
    nats_test_url,
    unique_topology,
)
from tests.support import OPERATOR_KEY, T0, Market

pytestmark = [pytest.mark.e2e, pytest.mark.nats, pytest.mark.slow, pytest.mark.timeout(300)]

START = datetime.fromisoformat(T0)
SHIPMENTS = 20
EVENTS_PER_SHIPMENT = 500  # 10,000 events in all
DRAIN_SECONDS = 180.0


@pytest.fixture
def topology() -> Iterator[Topology]:
    topology = unique_topology()
    yield topology
    asyncio.run(delete_streams(topology))


def shipment_ids() -> list[str]:
    return [f"SHIP-{n:02d}" for n in range(SHIPMENTS)]


def build_marketplace(database_url: str) -> None:
    """SHIPMENTS parcel shipments of one seller, each with a head-start order waiting on it."""
    runtime = build_runtime(
        Settings(database_url=database_url, operator_key=OPERATOR_KEY, sandbox=True)
    )
    try:
        with TestClient(create_app(runtime)) as client:
            market = Market(client)
            market.set_clock(T0)
            market.add_fc("LAX1", "America/Los_Angeles", region="us-west")
            market.add_storefront()
            seller = market.add_seller()
            for n, shipment in enumerate(shipment_ids()):
                sku = f"SKU-{n:02d}"
                market.add_product(seller, sku)
                market.add_shipment(seller, shipment, {sku: 50}, shipped_at=T0)
                assert market.order(sku).status_code == 201
            market.set_clock(START + timedelta(days=1))  # every event below lies in the past
    finally:
        runtime.engine.dispose()


def tracking_event(shipment: str, step: int) -> dict[str, Any]:
    last = EVENTS_PER_SHIPMENT - 1
    kind = "departed_origin" if step == 0 else "delivered" if step == last else "in_transit"
    return {
        "event_id": f"{shipment}-{step:04d}",
        "shipment_id": shipment,
        "type": kind,
        "occurred_at": (START + timedelta(minutes=step)).isoformat(),
    }


def all_events() -> list[dict[str, Any]]:
    """Interleaved across shipments, as carriers' feeds arrive."""
    return [
        tracking_event(shipment, step)
        for step in range(EVENTS_PER_SHIPMENT)
        for shipment in shipment_ids()
    ]


async def publish(topology: Topology, events: list[dict[str, Any]]) -> None:
    connection = await nats.connect(nats_test_url())
    try:
        js = connection.jetstream()
        for start in range(0, len(events), 1000):
            for item in events[start : start + 1000]:
                await js.publish_async(topology.tracking_subject("LAX1"), json.dumps(item).encode())
            await js.publish_async_completed()  # every publish acknowledged by JetStream
    finally:
        await connection.close()


async def backlog_and_dead_letters(topology: Topology) -> tuple[tuple[int, int], list[Any]]:
    connection = await nats.connect(nats_test_url())
    try:
        js = connection.jetstream()
        return await consumer_backlog(js, topology), await dead_letters(js, topology)
    finally:
        await connection.close()


def recorded(database: Engine) -> int:
    with database.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM tracking_events")).scalar_one())


def as_naive_utc(value: datetime | str) -> datetime:
    """A timestamp column as read back: SQLite gives text, PostgreSQL an aware datetime."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def wait_until(condition: Any, seconds: float, what: str, worker: WorkerProcess) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert worker.process is None or worker.process.poll() is None, worker.log()
        assert time.monotonic() < deadline, f"{what} not reached in {seconds}s:\n{worker.log()}"
        time.sleep(0.05)


def test_a_worker_killed_mid_stream_and_restarted_loses_no_event_and_applies_none_twice(
    tmp_path: Path, topology: Topology, engine: str
) -> None:
    with _database(engine, tmp_path) as url:
        database = create_engine(url)
        try:
            _kill_and_restart_mid_stream(url, database, tmp_path, topology, engine)
        finally:
            database.dispose()


def _kill_and_restart_mid_stream(
    url: str, database: Engine, tmp_path: Path, topology: Topology, engine: str
) -> None:
    # given a marketplace on the engine and a worker consuming the test's own stream
    build_marketplace(url)
    # the killed worker's batch comes back soon
    env = worker_env(url, topology, tracking_ack_wait_seconds="3")
    worker = WorkerProcess(env, tmp_path / "worker.log")
    events = all_events()
    assert len(events) == 10_000
    worker.start()
    worker.wait_consuming()

    # when half the events are published and the worker is killed while applying them
    asyncio.run(publish(topology, events[:5000]))
    wait_until(lambda: recorded(database) >= 2000, DRAIN_SECONDS, "2,000 events", worker)
    assert worker.stop(signal.SIGKILL) == -signal.SIGKILL
    killed_at = recorded(database)
    assert killed_at < 10_000

    # ... and the rest are published while it is down, then it is restarted
    asyncio.run(publish(topology, events[5000:]))
    worker.start()
    worker.wait_consuming()
    wait_until(lambda: recorded(database) == 10_000, DRAIN_SECONDS, "all 10,000 events", worker)
    wait_until(
        lambda: asyncio.run(backlog_and_dead_letters(topology))[0] == (0, 0),
        30.0,
        "an empty backlog",
        worker,
    )
    exit_code = worker.stop(signal.SIGTERM)

    # then every event is recorded exactly once, none dead-lettered, the worker stopped cleanly
    assert exit_code == 0, worker.log()
    assert "worker_stopped" in worker.log()
    _, letters = asyncio.run(backlog_and_dead_letters(topology))
    assert letters == []
    with database.connect() as connection:
        count, distinct = connection.execute(
            text("SELECT count(*), count(DISTINCT event_id) FROM tracking_events")
        ).one()
        assert (count, distinct) == (10_000, 10_000)
        ids = connection.execute(text("SELECT event_id FROM tracking_events")).scalars()
        assert set(ids) == {item["event_id"] for item in events}
        # ... and each shipment stands where its newest event put it
        last = START + timedelta(minutes=EVENTS_PER_SHIPMENT - 1)
        rows = connection.execute(
            text(
                "SELECT id, status, last_milestone, last_milestone_at, delivered_at FROM shipments"
            )
        ).all()
    assert len(rows) == SHIPMENTS
    for shipment, status, milestone, milestone_at, delivered_at in rows:
        assert (status, milestone) == ("delivered", "delivered"), shipment
        assert as_naive_utc(milestone_at) == as_naive_utc(last)
        assert delivered_at is not None
    # The figures RELIABILITY.md quotes (run with -s to see them).
    print(
        f"\nworker crash ({engine}): 1 SIGKILL survived with {killed_at} of {len(events)}"
        " events applied,"
        f" {count} recorded once each, 0 lost, 0 applied twice, 0 dead-lettered"
    )
