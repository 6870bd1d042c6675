"""Tracking events from real NATS JetStream into the service behind POST /v1/tracking-events.

Each test uses streams, subjects and a durable of its own (tests/nats_server.py) and runs on
both engines. Without a NATS server these tests are skipped loudly (failed with CI=true).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import nats
import pytest
from nats.js import JetStreamContext
from sqlalchemy import func, select

from headstart.bootstrap import Runtime, build_runtime
from headstart.config import Settings
from headstart.store.tables import TrackingEventRow
from headstart.workers.tracking_consumer import BatchReport, TrackingConsumer
from headstart.workers.tracking_streams import Topology
from tests.integration.checks import at, event, shipment_of
from tests.integration.conftest import Server
from tests.nats_server import (
    consumer_backlog,
    dead_letters,
    delete_streams,
    nats_test_url,
    unique_topology,
)
from tests.support import T0, Market

pytestmark = pytest.mark.nats

T = TypeVar("T")
Scenario = Callable[[JetStreamContext, Callable[..., Awaitable[TrackingConsumer]]], Awaitable[T]]


@pytest.fixture
def topology() -> Iterator[Topology]:
    topology = unique_topology()
    yield topology
    asyncio.run(delete_streams(topology))


@pytest.fixture
def shipment(market: Market) -> str:
    """SH1: 100 units of SKU1 shipped at T0, a day before the clock (events are not future)."""
    seller = market.add_seller()
    market.add_product(seller, "SKU1")
    market.add_shipment(seller, "SH1", {"SKU1": 100}, shipped_at=T0)
    market.advance(24)
    return "SH1"


def run(server: Server, topology: Topology, scenario: Scenario[T]) -> T:
    """Run ``scenario(js, new_consumer)``; every NATS connection it opens is closed after."""

    async def main() -> T:
        connections = []

        async def new_consumer(runtime: Runtime | None = None, **options: Any) -> TrackingConsumer:
            connection = await nats.connect(nats_test_url())
            connections.append(connection)
            consumer = TrackingConsumer(
                runtime or server.runtime,
                topology,
                batch_size=options.get("batch_size", 100),
                ack_wait=options.get("ack_wait", 30.0),
                retry_delay=options.get("retry_delay", 0.2),
            )
            await consumer.start(connection)
            return consumer

        publisher = await nats.connect(nats_test_url())
        connections.append(publisher)
        try:
            return await scenario(publisher.jetstream(), new_consumer)
        finally:
            for connection in connections:
                await connection.drain()

    return asyncio.run(main())


async def publish(
    js: JetStreamContext, topology: Topology, *bodies: bytes | dict[str, Any]
) -> None:
    for body in bodies:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        await js.publish(topology.tracking_subject("LAX1"), data)


async def drain(
    js: JetStreamContext, topology: Topology, *consumers: TrackingConsumer
) -> list[BatchReport]:
    """Poll every consumer at once until the durable has nothing left, delivered or not."""
    reports: list[BatchReport] = []
    for _ in range(200):
        reports += await asyncio.gather(*(c.poll_once(timeout=0.2) for c in consumers))
        if await consumer_backlog(js, topology) == (0, 0):
            return reports
    raise AssertionError(f"the stream was not drained: {reports}")


def recorded_events(runtime: Runtime) -> list[str]:
    with runtime.reader() as uow:
        return sorted(uow.session.scalars(select(TrackingEventRow.event_id)))


def test_poison_messages_are_dead_lettered_with_their_reason_and_the_stream_goes_on(
    server: Server, market: Market, shipment: str, topology: Topology
) -> None:
    not_an_event = event("bad-type", shipment, "teleported", T0)
    unknown = event("unknown-ship", "NO-SUCH-SHIPMENT", "in_transit", T0)

    async def scenario(js: JetStreamContext, new_consumer: Any) -> Any:
        consumer = await new_consumer()
        await publish(
            js,
            topology,
            b"{not json",
            not_an_event,
            event("e1", shipment, "in_transit", at(T0, hours=1)),
            unknown,
            event("e2", shipment, "out_for_delivery", at(T0, hours=2)),
        )
        first = await drain(js, topology, consumer)
        await publish(js, topology, event("e3", shipment, "delivered", at(T0, hours=3)))
        later = await drain(js, topology, consumer)
        return first, later, await dead_letters(js, topology)

    first, later, letters = run(server, topology, scenario)

    assert sum(r.applied for r in first) == 2 and sum(r.dead_lettered for r in first) == 3
    assert sum(r.applied for r in later) == 1
    assert recorded_events(server.runtime) == ["e1", "e2", "e3"]
    assert shipment_of(market, shipment)["status"] == "delivered"
    assert [letter["reason"] for letter in letters] == ["not_json", "invalid_event", "not_found"]
    assert [letter["data"] for letter in letters] == [
        "{not json",
        json.dumps(not_an_event),
        json.dumps(unknown),
    ]
    for letter in letters:
        assert letter["original_subject"] == topology.tracking_subject("LAX1")
        assert letter["headers"]["Headstart-Reason"] == letter["reason"]
        assert letter["message"]
    assert letters[1]["details"][0]["loc"] == ["type"]
    assert letters[2]["details"] == {"shipment_id": "NO-SUCH-SHIPMENT"}


def test_an_event_published_twice_is_applied_once(
    server: Server, market: Market, shipment: str, topology: Topology
) -> None:
    delivered = event("e1", shipment, "delivered", at(T0, hours=5))

    async def scenario(js: JetStreamContext, new_consumer: Any) -> Any:
        consumer = await new_consumer()
        await publish(js, topology, delivered, delivered)  # the same batch
        await drain(js, topology, consumer)
        before = shipment_of(market, shipment)
        await publish(js, topology, {"events": [delivered]})  # a later batch
        reports = await drain(js, topology, consumer)
        return before, reports

    before, reports = run(server, topology, scenario)

    assert sum(r.applied for r in reports) == 1  # acknowledged, and changed nothing:
    assert recorded_events(server.runtime) == ["e1"]
    assert shipment_of(market, shipment) == before
    assert before["status"] == "delivered"


def test_two_workers_sharing_the_durable_each_take_messages_and_apply_all_exactly_once(
    server: Server, market: Market, shipment: str, topology: Topology
) -> None:
    events = [event(f"e{n:03d}", shipment, "in_transit", at(T0, hours=n / 100)) for n in range(300)]

    async def scenario(js: JetStreamContext, new_consumer: Any) -> Any:
        first = await new_consumer(batch_size=10)
        second = await new_consumer(batch_size=10)
        await publish(js, topology, *events)
        pairs = []
        for _ in range(200):
            pairs.append(await asyncio.gather(first.poll_once(0.2), second.poll_once(0.2)))
            if await consumer_backlog(js, topology) == (0, 0):
                return pairs
        raise AssertionError("not drained")

    pairs = run(server, topology, scenario)

    by_first = sum(a.applied for a, _ in pairs)
    by_second = sum(b.applied for _, b in pairs)
    assert by_first > 0 and by_second > 0
    assert by_first + by_second == 300
    assert recorded_events(server.runtime) == sorted(e["event_id"] for e in events)


def test_a_database_outage_retries_the_batch_and_dead_letters_nothing(
    server: Server, market: Market, shipment: str, topology: Topology, tmp_path: Any
) -> None:
    # given a worker whose database cannot be opened (its directory does not exist)
    down = build_runtime(
        Settings(database_url=f"sqlite:///{tmp_path}/missing/hs.db", sandbox=True), migrate=False
    )

    async def scenario(js: JetStreamContext, new_consumer: Any) -> Any:
        broken = await new_consumer(down)
        await publish(js, topology, event("e1", shipment, "delivered", at(T0, hours=5)))
        # when it fetches the event, then (the database back) a healthy worker takes over
        failed = await broken.poll_once(timeout=2.0)
        healthy = await new_consumer()
        reports = await drain(js, topology, healthy)
        return failed, reports, await dead_letters(js, topology)

    try:
        failed, reports, letters = run(server, topology, scenario)
    finally:
        down.engine.dispose()

    # then the event was retried, not dead-lettered, and applied once the database answered
    assert (failed.fetched, failed.retried, failed.dead_lettered) == (1, 1, 0)
    assert sum(r.applied for r in reports) == 1
    assert letters == []
    assert recorded_events(server.runtime) == ["e1"]


def test_copies_of_an_event_id_in_separate_batches_record_it_once(
    server: Server, market: Market, shipment: str, topology: Topology
) -> None:
    async def scenario(js: JetStreamContext, new_consumer: Any) -> Any:
        consumer = await new_consumer(batch_size=1)
        for n in range(3):
            await publish(js, topology, event("same", shipment, "in_transit", at(T0, hours=n)))
        return await drain(js, topology, consumer)

    reports = run(server, topology, scenario)

    assert sum(r.applied for r in reports) == 3
    with server.runtime.reader() as uow:
        count = uow.session.scalar(select(func.count()).select_from(TrackingEventRow))
    assert count == 1
