"""Re-promise sweep (issue 8, item 4): a delay on a shipment with N waiting orders.

Seeds, through the real services, one FC, one enrolled seller, one SKU and one shipped
parcel shipment carrying enough units for N one-unit head-start orders, with a model
fitted on a synthetic history stored as the one in use. One order is placed through
``orders.place_order``; the other N-1 are copies of it written in one insert (placing
50,000 orders one by one would take the benchmark's whole budget), so every order has
the same promise, inputs and shape as a placed one.

Timed: one ``delayed`` tracking event with a carrier ETA a week out, through
``tracking.ingest_events`` (one transaction): the shipment is re-estimated, and the SKU
re-promised first come first served (R9), every order revised with its revision row and
its delay notice in the outbox (R15), and the offer re-published (R16).

Baselines, in the same run on the same rows, through SQLAlchemy Core (no ORM): the bare
transaction that reads the N orders and writes each one's new promise (SELECT + UPDATE
of N rows); and the same plus the N revision rows and N outbox rows a re-promise must
write (every row the real pass writes).

Run: ``.venv/bin/python bench/bench_repromise.py [--orders 50000] [--postgres |
--database-url URL] [--profile out.prof]`` (SQLite in a temporary directory by default;
``--postgres`` makes and drops a scratch database on 127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import math
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from served import scratch_postgres
from sqlalchemy import bindparam, func, insert, select, update

from headstart.bootstrap import Runtime, build_runtime
from headstart.config import Settings
from headstart.domain.estimate.calibrated import fit_estimator
from headstart.services import catalog, orders, sellers, shipments, tracking
from headstart.services.sandbox import move_clock
from headstart.services.simulation import install_estimator
from headstart.services.tracking import TrackingEvent
from headstart.sim.fcs import open_fc
from headstart.sim.history import generate_history
from headstart.store.tables import OrderRevisionRow, OrderRow, OutboxRow

NOW = datetime(2026, 3, 16, 17, 0, tzinfo=UTC)  # the sandbox clock, held still
SKU = "HOT-1"
SHIPMENT = "SH-DELAYED"
HISTORY_SHIPMENTS = 1000  # the stored model is fitted on a synthetic history this long
INSERT_CHUNK = 5000
LATER = date(2026, 3, 30)  # the baseline's new promised in-stock date


@contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    if args.database_url:
        yield args.database_url
    elif not args.postgres:
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{Path(directory) / 'repromise.db'}"
    else:
        with scratch_postgres("headstart_bench") as url:
            yield url


def seed(runtime: Runtime, count: int) -> None:
    """N one-unit orders waiting on one shipped shipment (see the module's docstring)."""
    uow, est = runtime.uow, runtime.estimators
    move_clock(uow(), est, now=NOW - timedelta(days=2), rate=0.0)
    open_fc(uow, "LAX1", "America/Los_Angeles", "us-west", {"us-west": 2, "us-east": 5})
    history = list(generate_history(HISTORY_SHIPMENTS, 7, NOW - timedelta(days=400)))
    install_estimator(uow(), fit_estimator(history), len(history))
    seller_id = sellers.create_seller(uow(), "Bench seller", "bench@example.com")["seller_id"]
    sellers.enroll(uow(), seller_id)
    catalog.put_product(
        uow(),
        est,
        sku=SKU,
        seller_id=seller_id,
        title="The one everybody waits for",
        price=Decimal("19.99"),
        currency="USD",
        head_start_excluded=False,
        head_start_cap=None,
    )
    shipments.create_shipment(
        uow(),
        seller_id=seller_id,
        shipment_id=SHIPMENT,
        destination_fc="LAX1",
        carrier_program="partnered_carrier",
        mode="parcel",
        carrier="UPS",
        tracking_ids=["TRK-DELAYED"],
        origin="US-CA-LA",
        created_at=NOW - timedelta(days=2),
        # R5: the default shrink of 5% leaves floor(units * 0.95) promisable.
        lines=[(SKU, math.ceil(count / 0.95) + 10)],
    )
    move_clock(uow(), est, now=NOW, rate=0.0)
    shipments.ship_shipment(uow(), est, SHIPMENT, NOW - timedelta(days=1), None)
    first, _ = orders.place_order(
        uow(), est, sku=SKU, quantity=1, region="us-west", buyer_ref="buyer-0", placed_by="bench"
    )
    with uow() as work:
        model = work.session.scalars(select(OrderRow).where(OrderRow.id == first["order_id"]))
        row = model.one()
        columns = {
            name: getattr(row, name)
            for name in OrderRow.__table__.columns.keys()  # noqa: SIM118 (a ColumnCollection)
            if name not in ("seq", "id", "buyer_ref", "request_fingerprint")
        }
        copies = [
            {**columns, "id": f"ord_bench_{n:06d}", "buyer_ref": f"buyer-{n}"}
            for n in range(1, count)
        ]
        for start in range(0, len(copies), INSERT_CHUNK):
            work.session.execute(insert(OrderRow), copies[start : start + INSERT_CHUNK])
        work.commit()


def delay(runtime: Runtime) -> dict[str, Any]:
    event = TrackingEvent(
        event_id="delay-1",
        shipment_id=SHIPMENT,
        type="delayed",
        occurred_at=NOW,
        carrier_eta=NOW + timedelta(days=7),
    )
    return tracking.ingest_events(runtime.uow(), runtime.estimators, [event])


def outcome(runtime: Runtime) -> tuple[int, int, int]:
    """(orders revised by the delay, delay notices, orders still waiting)."""
    with runtime.reader() as work:
        revised = work.session.scalar(
            select(func.count()).where(
                OrderRevisionRow.reason == "tracking_event", OrderRevisionRow.new.is_not(None)
            )
        )
        notices = work.session.scalar(select(func.count()).where(OutboxRow.kind == "delay_notice"))
        waiting = work.session.scalar(
            select(func.count()).where(OrderRow.sku == SKU, OrderRow.status == "promised")
        )
        return int(revised or 0), int(notices or 0), int(waiting or 0)


def bare(runtime: Runtime, *, with_rows: bool) -> tuple[float, int]:
    """The baseline: read the waiting orders, write each a new promise (and, ``with_rows``,
    a revision row and an outbox row), in one transaction through SQLAlchemy Core."""
    orders_table = OrderRow.__table__
    began = time.perf_counter()
    with runtime.engine.begin() as conn:
        rows = conn.execute(
            select(orders_table.c.seq, orders_table.c.id, orders_table.c.promise).where(
                orders_table.c.sku == SKU, orders_table.c.status == "promised"
            )
        ).all()
        changes = []
        for seq, _, promise in rows:
            new = {**promise, "promised_in_stock_date": LATER.isoformat()}
            changes.append({"b_seq": seq, "promise": new, "day": LATER})
        conn.execute(
            update(orders_table)
            .where(orders_table.c.seq == bindparam("b_seq"))
            .values(
                promise=bindparam("promise"),
                promised_in_stock_date=bindparam("day"),
                slips=orders_table.c.slips + 1,
            ),
            changes,
        )
        if with_rows:
            conn.execute(
                insert(OrderRevisionRow.__table__),
                [
                    {
                        "order_id": order_id,
                        "at": NOW,
                        "reason": "bench_baseline",
                        "old": promise,
                        "new": {**promise, "promised_in_stock_date": LATER.isoformat()},
                        "inputs": {"reason": "bench_baseline"},
                    }
                    for _, order_id, promise in rows
                ],
            )
            conn.execute(
                insert(OutboxRow.__table__),
                [
                    {
                        "kind": "bench_baseline",
                        "recipient": "buyer:bench",
                        "subject": f"Your order {order_id} is delayed",
                        "body": f"Your order {order_id} will now arrive later.",
                        "payload": {"order_id": order_id, "old": promise},
                        "dedupe_key": f"baseline:{order_id}",
                        "state": "pending",
                        "attempts": 0,
                        "created_at": NOW,
                    }
                    for _, order_id, promise in rows
                ],
            )
    return time.perf_counter() - began, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--postgres", action="store_true", help="a scratch PostgreSQL database")
    parser.add_argument("--database-url", help="an empty database to use instead")
    parser.add_argument("--profile", help="write a cProfile of the timed delay here")
    parser.add_argument(
        "--gc-gen0",
        type=int,
        help="collect the youngest generation only every this many allocations (Python's "
        "default is 700: a pass allocating millions of objects then spends a quarter of its "
        "time in the collector)",
    )
    args = parser.parse_args()
    if args.gc_gen0:
        gc.set_threshold(args.gc_gen0, 20, 100)
    with database(args) as url:
        runtime = build_runtime(Settings(database_url=url, sandbox=True, operator_key="hs_op_b"))
        try:
            began = time.perf_counter()
            seed(runtime, args.orders)
            print(
                f"{runtime.engine.dialect.name}: {args.orders} waiting orders seeded in "
                f"{time.perf_counter() - began:.1f} s"
            )
            profiler = cProfile.Profile() if args.profile else None
            began = time.perf_counter()
            if profiler:
                profiler.enable()
            delay(runtime)
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)
            seconds = time.perf_counter() - began
            revised, notices, waiting = outcome(runtime)
            bare_seconds, bare_rows = bare(runtime, with_rows=False)
            rows_seconds, _ = bare(runtime, with_rows=True)
        finally:
            runtime.engine.dispose()
    print(
        f"delay re-promised {revised} of {args.orders} orders ({notices} delay notices, "
        f"{waiting} still waiting) in {seconds:.2f} s: {revised / seconds:,.0f} orders/s"
    )
    print(
        f"baseline, bare SELECT + UPDATE of {bare_rows} rows: {bare_seconds:.2f} s; "
        f"ratio {bare_seconds / seconds:.2f}"
    )
    print(
        f"baseline, the same + {bare_rows} revision and outbox rows: {rows_seconds:.2f} s; "
        f"ratio {rows_seconds / seconds:.2f}"
    )
    print(
        json.dumps(
            {
                "orders": args.orders,
                "seconds": round(seconds, 3),
                "bare_select_update_seconds": round(bare_seconds, 3),
                "bare_with_rows_seconds": round(rows_seconds, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
