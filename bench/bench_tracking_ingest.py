"""Sustained tracking-event ingest through NATS JetStream into PostgreSQL (issue 4).

Seeds a marketplace through the real services (four FCs, sellers, a few hundred SKUs,
in-flight shipments with head-start orders waiting on them, a stored in-stock model),
publishes ``--events`` tracking events (one per message, in time order, on
``<prefix>.tracking.<fc>``), then runs the real worker (``run_worker`` with no jobs and
no outbox sender) until every message is acknowledged: each event is recorded, its
shipment re-estimated (with a calibration snapshot), and the SKUs it carries re-promised
and their offers re-published.

Baselines, in the same run, each on the same messages published to a stream of its own
(same batch size): a bare JetStream pull consumer that only acknowledges (issue 4); and
issue 8's bare ingest, a pull consumer that inserts each batch's event rows (the columns
``ingest_events`` writes, into a twin of ``tracking_events``) in one psycopg transaction
and acknowledges, with no re-estimate or re-promise.

Prints events/s of the worker (from the first fetch to the last acknowledgement, the
stream holding the whole backlog) beside each baseline's, as ratios; the same with the
publishing included; and where the worker's time went (ingest_events vs the rest).

Run: ``.venv/bin/python bench/bench_tracking_ingest.py [--events 20000]
[--database-url postgresql+psycopg://...] [--profile out.prof]``
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import nats
import psycopg
import structlog
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError
from served import scratch_postgres
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

import headstart.workers.tracking_consumer as consumer_module
from headstart.bootstrap import Runtime, build_runtime
from headstart.config import Settings
from headstart.domain.errors import Unavailable
from headstart.domain.estimate.calibrated import fit_estimator
from headstart.services import catalog, orders, sellers, shipments
from headstart.services.sandbox import move_clock
from headstart.services.simulation import install_estimator
from headstart.sim.fcs import open_fc
from headstart.sim.history import generate_history
from headstart.store.tables import OrderRow, ShipmentRow, TrackingEventRow
from headstart.workers.runner import run_worker
from headstart.workers.tracking_streams import Topology

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NATS_URL = "nats://127.0.0.1:4222"
NOW = datetime(2026, 3, 16, 17, 0, tzinfo=UTC)  # the sandbox clock, held still
FCS = (
    ("LAX1", "America/Los_Angeles", "us-west"),
    ("ONT8", "America/Los_Angeles", "us-west"),
    ("EWR1", "America/New_York", "us-east"),
    ("DFW6", "America/Chicago", "us-central"),
)
TRANSIT = {
    "us-west": {"us-west": 2, "us-central": 3, "us-east": 5},
    "us-east": {"us-east": 2, "us-central": 3, "us-west": 5},
    "us-central": {"us-central": 2, "us-west": 3, "us-east": 3},
}
# (mode, program, carrier, origin, days in transit so far: low, high)
KINDS = (
    ("parcel", "partnered_carrier", "UPS", "US-TX", 1, 5),
    ("parcel", "partnered_carrier", "FedEx", "US-NJ", 1, 5),
    ("ltl", "marketplace_freight", "XPO", "US-GA", 2, 7),
    ("ftl", "partnered_carrier", "JBHunt", "US-IL", 1, 5),
    ("air", "global_logistics", "Cathay Cargo", "CN-SZX", 2, 8),
    ("ocean", "global_logistics", "COSCO", "CN-SHA", 10, 25),
)
HISTORY_SHIPMENTS = 1500  # the stored model is fitted on a synthetic history this long


@dataclass(frozen=True)
class Inflight:
    shipment_id: str
    fc: str
    shipped_at: datetime
    mode: str


@dataclass
class Timings:
    ingest_seconds: float = 0.0
    ingest_calls: int = 0


# --- the database -------------------------------------------------------------------------


@contextmanager
def scratch_database(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    with scratch_postgres("headstart_bench", ADMIN_URL) as made:
        yield made


# --- the marketplace ----------------------------------------------------------------------


def seed(runtime: Runtime, args: argparse.Namespace, rng: random.Random) -> list[Inflight]:
    uow, est = runtime.uow, runtime.estimators
    move_clock(uow(), est, now=NOW - timedelta(days=30), rate=0.0)
    for code, zone, region in FCS:
        open_fc(uow, code, zone, region, TRANSIT[region])
    history = list(generate_history(HISTORY_SHIPMENTS, 7, NOW - timedelta(days=400)))
    install_estimator(uow(), fit_estimator(history), len(history))
    skus_of: dict[str, list[str]] = {}
    for s in range(args.sellers):
        seller_id = sellers.create_seller(uow(), f"Seller {s}", f"s{s}@example.com")["seller_id"]
        sellers.enroll(uow(), seller_id)
        skus_of[seller_id] = []
    seller_ids = list(skus_of)
    for n in range(args.skus):
        seller_id = seller_ids[n % len(seller_ids)]
        sku = f"SKU-{n:04d}"
        catalog.put_product(
            uow(),
            est,
            sku=sku,
            seller_id=seller_id,
            title=f"Product {n}",
            price=Decimal("19.99"),
            currency="USD",
            head_start_excluded=False,
            head_start_cap=None,
        )
        skus_of[seller_id].append(sku)
    move_clock(uow(), est, now=NOW, rate=0.0)
    inflight = []
    for n in range(args.shipments):
        seller_id = seller_ids[n % len(seller_ids)]
        fc = FCS[rng.randrange(len(FCS))][0]
        mode, program, carrier, origin, low, high = KINDS[rng.randrange(len(KINDS))]
        shipped_at = NOW - timedelta(hours=rng.uniform(low * 24, high * 24))
        shipment_id = f"SH-{n:05d}"
        lines = rng.sample(skus_of[seller_id], rng.choice((1, 1, 2, 2, 3)))
        shipments.create_shipment(
            uow(),
            seller_id=seller_id,
            shipment_id=shipment_id,
            destination_fc=fc,
            carrier_program=program,
            mode=mode,
            carrier=carrier,
            tracking_ids=[f"TRK{shipment_id}"],
            origin=origin,
            created_at=shipped_at - timedelta(hours=12),
            lines=[(sku, rng.choice((12, 24, 40, 60, 120, 300))) for sku in lines],
        )
        shipments.ship_shipment(uow(), est, shipment_id, shipped_at, None)
        inflight.append(Inflight(shipment_id, fc, shipped_at, mode))
    all_skus = [sku for skus in skus_of.values() for sku in skus]
    regions = ("us-west", "us-east", "us-central")
    for n in range(args.orders):
        # Unavailable: nothing in flight for it, or its head-start quantity is promised.
        with suppress(Unavailable):
            orders.place_order(
                uow(),
                est,
                sku=rng.choice(all_skus),
                quantity=rng.choice((1, 1, 1, 2, 3)),
                region=rng.choice(regions),
                buyer_ref=f"buyer-{n}",
                placed_by="bench",
            )
    return inflight


def tracking_events(
    inflight: list[Inflight], count: int, rng: random.Random
) -> list[tuple[str, dict[str, Any]]]:
    """``count`` events spread over the shipments, each shipment's in order, none after NOW:
    scans in transit, ETA updates and delays, and for some the last mile and delivery."""
    per = [1] * len(inflight)
    for _ in range(count - len(inflight)):
        per[rng.randrange(len(inflight))] += 1
    events: list[tuple[str, dict[str, Any]]] = []
    for shipment, k in zip(inflight, per, strict=True):
        span = (NOW - timedelta(minutes=5) - shipment.shipped_at).total_seconds()
        times = sorted(
            shipment.shipped_at + timedelta(seconds=rng.uniform(0, span)) for _ in range(k)
        )
        delivered = k >= 3 and rng.random() < 0.3
        eta = NOW + timedelta(days=rng.uniform(0.5, 6 if shipment.mode != "ocean" else 14))
        for i, at in enumerate(times):
            body: dict[str, Any] = {
                "event_id": f"{shipment.shipment_id}-e{i:03d}",
                "shipment_id": shipment.shipment_id,
                "occurred_at": at.isoformat(),
            }
            if delivered and i == k - 1:
                body["type"] = "delivered"
                body["location"] = shipment.fc
            elif delivered and i == k - 2:
                body["type"] = "out_for_delivery"
                body["location"] = shipment.fc
            else:
                roll = rng.random()
                if roll < 0.15:
                    eta += timedelta(hours=rng.uniform(-12, 12))
                    body.update(type="eta_update", carrier_eta=max(eta, at).isoformat())
                elif roll < 0.20:
                    eta += timedelta(days=rng.uniform(1, 4))
                    body.update(type="delayed", carrier_eta=eta.isoformat())
                else:
                    body.update(type="in_transit", location=f"HUB-{rng.randrange(40):02d}")
            events.append((shipment.fc, body))
    events.sort(key=lambda item: item[1]["occurred_at"])
    return events


# --- NATS ---------------------------------------------------------------------------------


async def publish_all(
    js: JetStreamContext, messages: list[tuple[str, bytes]], window: int = 500
) -> float:
    """Publish with acknowledgements from JetStream, ``window`` at a time in flight."""
    started = time.perf_counter()
    for start in range(0, len(messages), window):
        await asyncio.gather(
            *(js.publish(subject, data) for subject, data in messages[start : start + window])
        )
    return time.perf_counter() - started


@asynccontextmanager
async def own_stream(
    nc: nats.NATS, name: str, payloads: list[tuple[str, bytes]], batch: int
) -> AsyncIterator[tuple[float, JetStreamContext.PullSubscription]]:
    """The messages published to a stream of their own (deleted at the end), and a pull
    consumer of it: (publish seconds, the subscription)."""
    js = nc.jetstream()
    stream, prefix = f"BENCH{name.upper()}", f"bench{name}"
    await js.add_stream(
        StreamConfig(name=stream, subjects=[f"{prefix}.tracking.>"], storage=StorageType.FILE)
    )
    try:
        publish_s = await publish_all(
            js, [(f"{prefix}.tracking.{fc}", data) for fc, data in payloads]
        )
        await js.add_consumer(
            stream,
            ConsumerConfig(
                durable_name=name,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                filter_subject=f"{prefix}.tracking.>",
                max_ack_pending=batch * 10,
            ),
        )
        yield publish_s, await js.pull_subscribe_bind(durable=name, stream=stream)
    finally:
        await js.delete_stream(stream)


async def baseline(
    nc: nats.NATS, tag: str, payloads: list[tuple[str, bytes]], batch: int
) -> tuple[float, float]:
    """Same messages, own stream, a pull consumer that only acknowledges: (publish s, consume s)."""
    async with own_stream(nc, f"raw{tag}", payloads, batch) as (publish_s, subscription):
        started = time.perf_counter()
        done = 0
        while done < len(payloads):
            for message in await subscription.fetch(batch, timeout=5):
                await message.ack()
                done += 1
        await nc.flush()
        return publish_s, time.perf_counter() - started


_BARE_TABLE = "bench_bare_events"
_BARE_INSERT = (
    f"INSERT INTO {_BARE_TABLE} (event_id, shipment_id, type, occurred_at, location, "
    "carrier_eta, recorded_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (event_id) DO NOTHING"
)


def _event_row(data: bytes) -> tuple[Any, ...]:
    """The columns ``ingest_events`` writes for one message."""
    body = json.loads(data)
    eta = body.get("carrier_eta")
    return (
        body["event_id"],
        body["shipment_id"],
        body["type"],
        datetime.fromisoformat(body["occurred_at"]),
        body.get("location"),
        datetime.fromisoformat(eta) if eta else None,
        NOW,
    )


async def bare_ingest(
    nc: nats.NATS, tag: str, payloads: list[tuple[str, bytes]], batch: int, url: str
) -> float:
    """Issue 8's baseline: the same messages, own stream, a pull consumer that inserts each
    batch's event rows (the columns ``ingest_events`` writes, into a twin of
    ``tracking_events``, keys and indexes included) in one psycopg transaction, then acks.
    No re-estimate, no re-promise. Returns the consume seconds."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await psycopg.AsyncConnection.connect(dsn)
    try:
        await conn.execute(f"CREATE TABLE {_BARE_TABLE} (LIKE tracking_events INCLUDING ALL)")
        await conn.commit()
        async with own_stream(nc, f"bare{tag}", payloads, batch) as (_, subscription):
            started = time.perf_counter()
            done = 0
            while done < len(payloads):
                messages = await subscription.fetch(batch, timeout=5)
                async with conn.cursor() as cursor:
                    await cursor.executemany(_BARE_INSERT, [_event_row(m.data) for m in messages])
                await conn.commit()
                for message in messages:
                    await message.ack()
                done += len(messages)
            await nc.flush()
            return time.perf_counter() - started
    finally:
        await conn.rollback()
        await conn.execute(f"DROP TABLE IF EXISTS {_BARE_TABLE}")
        await conn.commit()
        await conn.close()


async def worker_run(
    runtime: Runtime, nc: nats.NATS, payloads: list[tuple[str, bytes]], timings: Timings
) -> tuple[float, float]:
    """Publish to the worker's subjects, then run the worker until all is acked."""
    topology = Topology.from_settings(runtime.settings)
    js = nc.jetstream()
    await js.add_stream(
        StreamConfig(
            name=topology.stream, subjects=[topology.tracking_subjects], storage=StorageType.FILE
        )
    )
    messages = [(topology.tracking_subject(fc), data) for fc, data in payloads]
    publish_s = await publish_all(js, messages)
    stop = asyncio.Event()
    finished: list[float] = []

    async def watch(stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(0.05)
            try:
                info = await js.consumer_info(topology.stream, topology.durable)
            except NotFoundError:
                continue
            if info.num_pending == 0 and info.num_ack_pending == 0:
                finished.append(time.perf_counter())
                stop.set()

    started = time.perf_counter()
    await run_worker(runtime, stop, jobs=[], loops=[watch], send=False)
    return publish_s, finished[0] - started


def timed_ingest(timings: Timings, profiler: cProfile.Profile | None) -> None:
    """Wrap the consumer's ingest_events so its share of the time can be printed (and,
    as it runs in a worker thread, profiled there)."""
    real = consumer_module.ingest_events

    def ingest(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        try:
            return real(*args, **kwargs)
        finally:
            if profiler is not None:
                profiler.disable()
            timings.ingest_seconds += time.perf_counter() - started
            timings.ingest_calls += 1

    consumer_module.ingest_events = ingest  # type: ignore[assignment]


async def delete_streams(nc: nats.NATS, names: list[str]) -> None:
    js = nc.jetstream()
    for name in names:
        with suppress(NotFoundError):
            await js.delete_stream(name)


# --- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--shipments", type=int, default=800)
    parser.add_argument("--skus", type=int, default=300)
    parser.add_argument("--sellers", type=int, default=8)
    parser.add_argument("--orders", type=int, default=900, help="head-start orders to try")
    parser.add_argument("--batch", type=int, default=None, help="tracking_batch_size")
    parser.add_argument("--database-url", default=None, help="default: a scratch database")
    parser.add_argument("--nats-url", default=NATS_URL)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--profile", default=None, help="write a cProfile of the worker run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    rng = random.Random(args.seed)
    tag = uuid.uuid4().hex[:8]
    with scratch_database(args.database_url) as url:
        options: dict[str, Any] = {}
        if args.batch:
            options["tracking_batch_size"] = args.batch
        settings = Settings(
            database_url=url,
            sandbox=True,
            nats_url=args.nats_url,
            nats_stream=f"BENCH_{tag}",
            nats_dead_letter_stream=f"BENCH_{tag}_DLQ",
            nats_subject_prefix=f"bench{tag}",
            nats_durable=f"bench-{tag}",
            **options,
        )
        runtime = build_runtime(settings)
        try:
            seeded = time.perf_counter()
            inflight = seed(runtime, args, rng)
            with runtime.reader() as uow:
                waiting = uow.session.scalar(
                    select(func.count()).where(OrderRow.status == "promised")
                )
            seed_s = time.perf_counter() - seeded
            events = tracking_events(inflight, args.events, rng)
            payloads = [(fc, json.dumps(body).encode()) for fc, body in events]
            print(
                f"seeded in {seed_s:.1f} s: {len(FCS)} FCs, {args.sellers} sellers, "
                f"{args.skus} SKUs, {len(inflight)} in-flight shipments, "
                f"{waiting} head-start orders waiting"
            )
            asyncio.run(run(runtime, args, tag, payloads))
        finally:
            runtime.engine.dispose()


async def run(
    runtime: Runtime, args: argparse.Namespace, tag: str, payloads: list[tuple[str, bytes]]
) -> None:
    settings = runtime.settings
    batch = settings.tracking_batch_size
    nc = await nats.connect(args.nats_url)
    timings = Timings()
    profiler = cProfile.Profile() if args.profile else None
    timed_ingest(timings, profiler)
    try:
        raw_publish_s, raw_consume_s = await baseline(nc, tag, payloads, batch)
        bare_s = await bare_ingest(nc, tag, payloads, batch, settings.database_url)
        publish_s, consume_s = await worker_run(runtime, nc, payloads, timings)
        if profiler is not None:
            profiler.dump_stats(args.profile)
    finally:
        await delete_streams(
            nc,
            [
                settings.nats_stream,
                settings.nats_dead_letter_stream,
                f"BENCHRAW{tag.upper()}",
                f"BENCHBARE{tag.upper()}",
            ],
        )
        await nc.close()
    with runtime.reader() as uow:
        recorded = uow.session.scalar(select(func.count()).select_from(TrackingEventRow))
        delivered = uow.session.scalar(
            select(func.count()).where(ShipmentRow.status == "delivered")
        )
        waiting = uow.session.scalar(select(func.count()).where(OrderRow.status == "promised"))
    n = len(payloads)
    assert recorded == n, f"{recorded} of {n} events recorded"
    rate, raw_rate = n / consume_s, n / raw_consume_s
    both, raw_both = n / (publish_s + consume_s), n / (raw_publish_s + raw_consume_s)
    print(f"events: {n} (one per message; batch {batch}); recorded {recorded}")
    print(f"after: {delivered} shipments delivered, {waiting} head-start orders still waiting")
    print(
        f"worker: {consume_s:.2f} s, {rate:,.0f} events/s "
        f"(raw NATS pull+ack: {raw_consume_s:.2f} s, {raw_rate:,.0f} events/s; "
        f"ratio {rate / raw_rate:.3f}; target >= 2,000 events/s)"
    )
    bare_rate = n / bare_s
    print(
        f"bare ingest (pull, insert the event rows, ack; issue 8's baseline): {bare_s:.2f} s, "
        f"{bare_rate:,.0f} events/s; worker / bare {rate / bare_rate:.3f} (target >= 0.30)"
    )
    print(
        f"with publishing: {publish_s + consume_s:.2f} s, {both:,.0f} events/s "
        f"(raw NATS publish+consume {raw_publish_s + raw_consume_s:.2f} s, "
        f"{raw_both:,.0f} events/s; ratio {both / raw_both:.3f})"
    )
    other = consume_s - timings.ingest_seconds
    print(
        f"breakdown: ingest_events {timings.ingest_seconds:.2f} s in {timings.ingest_calls} "
        f"calls ({1000 * timings.ingest_seconds / max(1, timings.ingest_calls):.1f} ms each, "
        f"{100 * timings.ingest_seconds / consume_s:.0f}%); NATS, decoding and waiting "
        f"{other:.2f} s ({100 * other / consume_s:.0f}%)"
    )


if __name__ == "__main__":
    main()
