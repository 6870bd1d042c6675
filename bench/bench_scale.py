"""Scale: offers, memory and start-up with 10k, 100k and 1M SKUs (issue 8, benchmark 5).

For each size, a scratch PostgreSQL database is migrated with the project's Alembic
migrations and seeded in two steps:

1. a template marketplace through the real services, in this process: two FCs, a
   stored in-stock model fitted on a synthetic history, an enrolled seller, three SKUs
   (one with an inbound parcel shipment shipped just now, one in stock, one with
   nothing) and an order on each of the first two (R1: the shipment is created after
   the enrolment; without a stored model no parcel is within the 21-day horizon);
2. bulk SQL (``INSERT ... SELECT generate_series``) that copies those rows into the
   real tables, so every JSON column holds what the services wrote: sellers of
   ``--skus-per-seller`` (1,000) SKUs each; 10% of SKUs sold out with an inbound lot
   (shipments of 10 lines, each with its estimate and calibration snapshot), 60% in
   stock, 30% sold out with nothing coming; one published offer decision per SKU; and
   as many orders as SKUs (1M at the top): 80% in-stock ones, 15% head-start ones
   already filled (on time, which R4 reads), 5% head-start ones waiting on the lots.

Then ``headstart serve --workers N`` (production mode) starts on it, and the script
checks that offers of seeded SKUs come out as the services would answer them
(head-start, in stock, none) before it measures:

* start-up: from the process's start until ``/healthz`` answers (median of ``--starts``);
* memory: RSS of every server process (the supervisor and each worker) once started
  and after the load, and of the PostgreSQL backends serving them;
* ``GET /v1/offers/{sku}`` latency p50/p99 over ``--requests`` requests to random SKUs
  (closed loop, ``--connections`` keep-alive connections), per kind of SKU, and of as
  many ``GET /healthz`` (the baseline: no database) interleaved with them at random, so
  both see the same load on a shared machine;
* the database's size (``pg_database_size``);
* every statement an offer runs, with ``EXPLAIN ANALYZE``'s execution time under its
  custom plan and under a generic one, for one SKU of each kind (``--explain`` prints
  the plans).

Growth factors are relative to the smallest size: latency should stay flat and memory
grow at most linearly with the SKUs.

Run: ``.venv/bin/python bench/bench_scale.py [--sizes 10000,100000,1000000]
[--workers 2] [--requests 3000] [--connections 2] [--skus-per-seller 1000]
[--starts 3] [--explain]``
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from rich.console import Console
from rich.table import Table
from served import KEY_SECRET, running_server, scratch_postgres
from sqlalchemy import event
from sqlalchemy.engine import make_url

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
OPERATOR_KEY = "hs_op_bench"
REGION = "us-west"
FCS = (
    ("LAX1", "America/Los_Angeles", "us-west", {"us-west": 2, "us-east": 5}),
    ("EWR1", "America/New_York", "us-east", {"us-west": 5, "us-east": 2}),
)
HISTORY_SHIPMENTS = 1500  # the stored model is fitted on a synthetic history this long
SKUS_PER_SELLER = 1000  # default; a multiple of 100, as a shipment's SKUs share a seller
LINES_PER_SHIPMENT = 10
# SKU n's kind by n % 10: 0 head-start (sold out, inbound lot), 1-6 in stock, 7-9 none.
KINDS = ("head_start", "in_stock", "none")
TEMPLATE = {"head_start": "T-HS", "in_stock": "T-IN", "none": "T-NONE"}
WAITING_SHARE = 0.05  # of the orders: head-start ones waiting on the lots
FILLED_EVERY = (1, 2, 3)  # of each 20 placed orders: head-start ones since filled (15%)
# One SKU of each kind whose offer's statements are explained (the first seller's).
EXPLAINED = (("head_start", 0), ("in_stock", 1), ("none", 7))
console = Console(width=None if sys.stdout.isatty() else 150)


def kind_of(n: int) -> str:
    digit = n % 10
    return "head_start" if digit == 0 else "in_stock" if digit <= 6 else "none"


def sku_name(n: int) -> str:
    return f"SKU-{n:07d}"


# ------------------------------------------------------------------ the database


def connect_kwargs(url: str) -> dict[str, Any]:
    parsed = make_url(url)
    return {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "dbname": parsed.database,
    }


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """A fresh database, dropped afterwards (also on Ctrl-C or a failure)."""
    with scratch_postgres("headstart_scale", admin_url) as url:
        yield url


# ------------------------------------------------------------------ seeding


def seed_template(url: str) -> None:
    """Migrate, then the few rows the bulk copy clones, written by the real services."""
    from headstart.bootstrap import build_runtime
    from headstart.config import Settings
    from headstart.domain.estimate.calibrated import fit_estimator
    from headstart.services import catalog, orders, sellers, shipments
    from headstart.services.simulation import install_estimator
    from headstart.sim.fcs import open_fc
    from headstart.sim.history import generate_history

    runtime = build_runtime(Settings(database_url=url, key_secret=KEY_SECRET, sandbox=False))
    uow, estimators = runtime.uow, runtime.estimators
    try:
        for code, zone, region, transit in FCS:
            open_fc(uow, code, zone, region, transit)
        # Without a stored model the prior's 99th percentile of a parcel lies beyond the
        # 21-day horizon: no head-start offer at all.
        history = list(
            generate_history(HISTORY_SHIPMENTS, 7, datetime.now(UTC) - timedelta(days=400))
        )
        install_estimator(uow(), fit_estimator(history), len(history))
        seller_id = sellers.create_seller(uow(), "Template", "template@example.com")["seller_id"]
        sellers.enroll(uow(), seller_id)
        for sku in TEMPLATE.values():
            catalog.put_product(
                uow(),
                estimators,
                sku=sku,
                seller_id=seller_id,
                title=sku,
                price=Decimal("19.99"),
                currency="USD",
                head_start_excluded=False,
                head_start_cap=None,
            )
        catalog.adjust_inventory(
            uow(), estimators, sku=TEMPLATE["in_stock"], fc="LAX1", delta=50, reason="bench"
        )
        # R1: only shipments created after the enrolment take part.
        time.sleep(0.01)
        shipments.create_shipment(
            uow(),
            seller_id=seller_id,
            shipment_id="SH-T",
            destination_fc="LAX1",
            carrier_program="partnered_carrier",
            mode="parcel",
            carrier="UPS",
            tracking_ids=["1ZSHT"],
            origin="US-TX",
            created_at=None,
            lines=[(TEMPLATE["head_start"], 100)],
        )
        shipments.ship_shipment(uow(), estimators, "SH-T", datetime.now(UTC), None)
        for sku in (TEMPLATE["head_start"], TEMPLATE["in_stock"]):
            orders.place_order(
                uow(),
                estimators,
                sku=sku,
                quantity=1,
                region=REGION,
                buyer_ref="t",
                placed_by="shop",
            )
    finally:
        runtime.engine.dispose()


# Each statement copies template rows; %(n)s SKUs, %(orders)s orders. SKU n belongs to
# seller n // per_seller, its kind is n % 10 (see KINDS); head-start SKU j is n = 10 j, on
# shipment j // 10 (whose 10 SKUs share a seller, as a shipment's lines must).
KIND_SQL = (
    "CASE WHEN mod({n}, 10) = 0 THEN 'T-HS' WHEN mod({n}, 10) <= 6 THEN 'T-IN' ELSE 'T-NONE' END"
)
SKU_SQL = "'SKU-' || lpad(({n})::text, 7, '0')"
SELLER_SQL = "'sel_' || lpad(to_hex(({n}) / %(per_seller)s), 16, '0')"
# A spread of order i over SKUs: a multiplicative hash, then a SKU block of 10.
HASH_SQL = "mod(({i})::bigint * 2654435761, 4294967296)"

SEED_STEPS: tuple[tuple[str, str], ...] = (
    (
        "sellers",
        f"""INSERT INTO sellers (id, name, email, enrollment, shrink, closed_units_shipped,
              closed_units_received, head_start_suppressed, created_at)
            SELECT {SELLER_SQL.format(n="s * %(per_seller)s")}, 'Seller ' || s,
                   's' || s || '@example.com', t.enrollment, t.shrink, 0, 0, false, t.created_at
            FROM generate_series(0, (%(n)s - 1) / %(per_seller)s) s, sellers t
            WHERE t.name = 'Template'""",
    ),
    (
        "products",
        f"""INSERT INTO products (sku, seller_id, title, price_minor, currency,
              head_start_excluded, head_start_cap, offer_seq, offer, updated_at)
            SELECT {SKU_SQL.format(n="g")}, {SELLER_SQL.format(n="g")}, 'Product ' || g,
                   t.price_minor + mod(g, 50) * 100, t.currency, false, NULL, t.offer_seq,
                   t.offer, t.updated_at
            FROM generate_series(0, %(n)s - 1) g
            JOIN products t ON t.sku = {KIND_SQL.format(n="g")}""",
    ),
    (
        "stock",
        f"""INSERT INTO stock (sku, fc, sellable, allocated)
            SELECT {SKU_SQL.format(n="g")}, 'LAX1',
                   CASE WHEN mod(g, 10) BETWEEN 1 AND 6 THEN 5 + mod(g::bigint * 7919, 46)
                        ELSE 0 END, 0
            FROM generate_series(0, %(n)s - 1) g""",
    ),
    (
        "shipments",
        f"""INSERT INTO shipments (id, seller_id, destination_fc, carrier_program, mode,
              carrier, tracking_ids, tracking_validated, origin, status, exception_reason,
              created_at, shipped_at, last_milestone, last_milestone_at, carrier_eta,
              delivered_at, in_stock_at, closed_at, estimate, milestones, first_carrier_eta)
            SELECT 'SH-' || lpad(k::text, 6, '0'), {SELLER_SQL.format(n="k * 100")},
                   t.destination_fc, t.carrier_program, t.mode, t.carrier,
                   json_build_array('1ZSH' || lpad(k::text, 6, '0')), t.tracking_validated,
                   t.origin, t.status, NULL, t.created_at, t.shipped_at, NULL, NULL, NULL,
                   NULL, NULL, NULL, t.estimate, NULL, NULL
            FROM generate_series(0, (%(n)s / 10 - 1) / 10) k, shipments t
            WHERE t.id = 'SH-T'""",
    ),
    (
        "shipment_lines",
        f"""INSERT INTO shipment_lines (shipment_id, sku, quantity_shipped, quantity_received)
            SELECT 'SH-' || lpad((j / 10)::text, 6, '0'), {SKU_SQL.format(n="j * 10")},
                   20 + mod(j::bigint * 7919, 181), 0
            FROM generate_series(0, %(n)s / 10 - 1) j""",
    ),
    (
        "estimate_snapshots",
        """INSERT INTO estimate_snapshots (shipment_id, computed_at, progress, estimate)
            SELECT s.id, t.computed_at, t.progress, t.estimate
            FROM shipments s, estimate_snapshots t
            WHERE t.shipment_id = 'SH-T' AND s.id <> 'SH-T' ORDER BY s.id""",
    ),
    (
        "offer_decisions",
        f"""INSERT INTO offer_decisions (sku, at, offer, inputs)
            SELECT {SKU_SQL.format(n="g")}, t.at, t.offer, t.inputs
            FROM generate_series(0, %(n)s - 1) g
            JOIN LATERAL (SELECT * FROM offer_decisions d
                          WHERE d.sku = {KIND_SQL.format(n="g")}
                          ORDER BY d.id DESC LIMIT 1) t ON true""",
    ),
    (
        # Placed over the last 90 days in seq order: in-stock ones on in-stock or sold-out
        # SKUs, and head-start ones since filled (allocated on time: R4 reads them).
        "orders (placed, allocated)",
        f"""INSERT INTO orders (id, sku, seller_id, quantity, region, buyer_ref, placed_by,
              fc, source, status, promise, promised_in_stock_date, promised_ship_date,
              first_promise, slips, consent_due_at, decision, placed_at, allocated_at,
              cancelled_at, cancel_reason, idempotency_scope, idempotency_key,
              request_fingerprint)
            SELECT 'ord_' || lpad(to_hex(i), 16, '0'), {SKU_SQL.format(n="s.n")},
                   {SELLER_SQL.format(n="s.n")}, 1, t.region, 'buyer-' || i, t.placed_by, t.fc,
                   t.source, 'allocated', t.promise, t.promised_in_stock_date,
                   t.promised_ship_date, t.first_promise, 0, NULL, t.decision, p.at,
                   LEAST(p.at + o.allocated_after, now()), NULL, NULL, NULL, NULL,
                   t.request_fingerprint
            FROM generate_series(0, %(placed)s - 1) i
            CROSS JOIN LATERAL (SELECT {HASH_SQL.format(i="i")} AS v) h
            CROSS JOIN LATERAL (
                SELECT now() - interval '90 days' * (1 - i::float8 / %(placed)s) AS at) p
            CROSS JOIN LATERAL (
                SELECT CASE WHEN mod(i, 20) IN (1, 2, 3) THEN 'T-HS' ELSE 'T-IN' END AS sku,
                       CASE WHEN mod(i, 20) IN (1, 2, 3) THEN 6 ELSE 9 END AS spread,
                       CASE WHEN mod(i, 20) IN (1, 2, 3) THEN interval '2 days'
                            ELSE interval '0' END AS allocated_after) o
            CROSS JOIN LATERAL (
                SELECT 10 * mod(h.v, %(n)s / 10) + 1 + mod(h.v / 7, o.spread) AS n) s
            JOIN orders t ON t.sku = o.sku AND t.buyer_ref = 't'
            ORDER BY i""",
    ),
    (
        "orders (waiting)",
        f"""INSERT INTO orders (id, sku, seller_id, quantity, region, buyer_ref, placed_by,
              fc, source, status, promise, promised_in_stock_date, promised_ship_date,
              first_promise, slips, consent_due_at, decision, placed_at, allocated_at,
              cancelled_at, cancel_reason, idempotency_scope, idempotency_key,
              request_fingerprint)
            SELECT 'ord_w' || lpad(to_hex(j), 15, '0'),
                   {SKU_SQL.format(n="10 * mod(j, %(n)s / 10)")},
                   {SELLER_SQL.format(n="10 * mod(j, %(n)s / 10)")}, 1, t.region,
                   'waiting-' || j, t.placed_by, t.fc, t.source, t.status, t.promise,
                   t.promised_in_stock_date, t.promised_ship_date, t.first_promise, 0,
                   t.consent_due_at, t.decision,
                   t.placed_at + (j - %(waiting)s) * interval '1 second', NULL, NULL, NULL,
                   NULL, NULL, t.request_fingerprint
            FROM generate_series(0, %(waiting)s - 1) j
            JOIN orders t ON t.sku = 'T-HS' AND t.buyer_ref = 't'
            ORDER BY j""",
    ),
    (
        "stock (allocated)",
        """UPDATE stock s SET allocated = a.units
            FROM (SELECT sku, fc, sum(quantity) AS units FROM orders
                  WHERE status = 'allocated' GROUP BY sku, fc) a
            WHERE s.sku = a.sku AND s.fc = a.fc AND s.sku LIKE 'SKU-%%'""",
    ),
)


@dataclass
class Seeding:
    template_seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)
    analyze_seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def bulk_seconds(self) -> float:
        return sum(self.steps.values())

    @property
    def total_seconds(self) -> float:
        return self.template_seconds + self.bulk_seconds + self.analyze_seconds


def seed(url: str, skus: int, orders: int, per_seller: int) -> Seeding:
    seeding = Seeding()
    started = time.perf_counter()
    seed_template(url)
    seeding.template_seconds = time.perf_counter() - started
    waiting = round(orders * WAITING_SHARE)
    params = {"n": skus, "placed": orders - waiting, "waiting": waiting, "per_seller": per_seller}
    with psycopg.connect(**connect_kwargs(url), autocommit=True) as conn:
        for name, statement in SEED_STEPS:
            started = time.perf_counter()
            with console.status(f"seeding {name}"):
                try:
                    conn.execute(statement, params)  # type: ignore[arg-type]
                except psycopg.Error as error:
                    raise RuntimeError(f"seeding {name} failed: {error}") from error
            seeding.steps[name] = time.perf_counter() - started
        started = time.perf_counter()
        with console.status("VACUUM ANALYZE"):
            conn.execute("VACUUM ANALYZE")
        seeding.analyze_seconds = time.perf_counter() - started
        for table in ("sellers", "products", "stock", "shipments", "shipment_lines", "orders"):
            found = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()
            seeding.rows[table] = int(found[0]) if found else 0
    return seeding


def database_bytes(url: str) -> int:
    with psycopg.connect(**connect_kwargs(url)) as conn:
        found = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(found[0]) if found else 0


# ------------------------------------------------------------------ the server


def rss_kib(pid: int) -> int:
    """VmRSS of a process, 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    """The process's children, grandchildren and so on (uvicorn's workers, their helpers)."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found.extend(children)
            pending.extend(children)
    return found


def process_name(pid: int) -> str:
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    text = " ".join(word.decode(errors="replace") for word in words if word)
    if "multiprocessing" in text and "spawn_main" in text:
        return "worker"
    if "resource_tracker" in text:
        return "resource tracker"
    if "headstart.cli" in text:
        return "supervisor" if "--workers" in text else "server"
    return text[:30]


@dataclass(frozen=True)
class Memory:
    by_process: tuple[tuple[str, int], ...]  # (name, KiB)
    backends_kib: int  # PostgreSQL backends connected to the database

    @property
    def workers_kib(self) -> list[int]:
        serving = [kib for name, kib in self.by_process if name in ("worker", "server")]
        # With --workers 1 the process started serves itself: no worker below it.
        return serving or [kib for name, kib in self.by_process if name == "supervisor"]

    @property
    def total_kib(self) -> int:
        return sum(kib for _, kib in self.by_process)


def memory_of(pid: int, url: str) -> Memory:
    processes = tuple((process_name(p), rss_kib(p)) for p in [pid, *descendants(pid)])
    with psycopg.connect(**connect_kwargs(url)) as conn:
        backends = [
            int(row[0])
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        ]
    return Memory(processes, sum(rss_kib(p) for p in backends))


def check_offers(base: str, skus: int, rng: random.Random) -> None:
    """Seeded SKUs must be offered as the services would offer them: fail loudly if not.

    The first SKU of each kind, one at each end of its digits and five more at random.
    """
    wanted = {  # kind: (buyable, source, the digits n % 10 of its SKUs)
        "head_start": (True, "head_start", (0,)),
        "in_stock": (True, "in_stock", (1, 6)),
        "none": (False, "none", (7, 9)),
    }
    with httpx.Client(base_url=base, timeout=60) as client:
        for kind, (buyable, source, digits) in wanted.items():
            picks = [digits[0]]
            picks += [10 * rng.randrange(skus // 10) + digit for digit in digits]
            picks += [10 * rng.randrange(skus // 10) + digits[0] for _ in range(5)]
            for n in picks:
                offer = client.get(f"/v1/offers/{sku_name(n)}", params={"region": REGION})
                body = offer.json()
                if (
                    offer.status_code != 200
                    or body["buyable"] is not buyable
                    or body["source"] != source
                ):
                    raise SystemExit(
                        f"seeded {kind} SKU {sku_name(n)} is offered wrongly "
                        f"({offer.status_code}): {body}"
                    )


# ------------------------------------------------------------------ load


@dataclass(frozen=True)
class Latency:
    count: int
    p50_ms: float
    p99_ms: float
    errors: int


def latency_of(samples: list[float], errors: int) -> Latency:
    if not samples:
        return Latency(0, float("nan"), float("nan"), errors)
    ordered = sorted(samples)
    return Latency(
        len(ordered),
        1000 * ordered[len(ordered) // 2],
        1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        errors,
    )


@dataclass(frozen=True)
class Samples:
    seconds: dict[str, list[float]]  # by label
    errors: dict[str, int]

    def latency(self, *labels: str) -> Latency:
        return latency_of(
            [value for label in labels for value in self.seconds.get(label, [])],
            sum(self.errors.get(label, 0) for label in labels),
        )


def closed_loop(
    base: str, pick: Callable[[random.Random], tuple[str, str]], requests: int, connections: int
) -> Samples:
    """``requests`` GETs over ``connections`` keep-alive connections, one thread each, each
    sending the next request once the last answer is read; latencies by the path's label."""
    url = httpx.URL(base)
    samples: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    lock = threading.Lock()

    def sender(index: int) -> None:
        rng = random.Random(index)
        connection = http.client.HTTPConnection(url.host, url.port, timeout=60)
        mine: list[tuple[str, float, bool]] = []
        try:
            for _ in range(requests // connections):
                label, path = pick(rng)
                started = time.perf_counter()
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                mine.append((label, time.perf_counter() - started, response.status == 200))
        finally:
            connection.close()
        with lock:
            for label, seconds, ok in mine:
                samples.setdefault(label, []).append(seconds)
                errors[label] = errors.get(label, 0) + (not ok)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Samples(samples, errors)


# ------------------------------------------------------------------ an offer's statements


@dataclass(frozen=True)
class Statement:
    kind: str
    label: str
    sql: str
    milliseconds: float
    plan: str
    generic_ms: float  # the same under a generic plan (a prepared statement's, reused)
    generic_plan: str


# What each statement of an offer reads, by a fragment of its SQL (first match wins).
STATEMENT_NAMES = (
    ("FROM products WHERE products.sku", "product"),
    ("FROM settings", "policy (settings)"),
    ("FROM fulfillment_centers", "FCs"),
    ("FROM stock", "stock of the SKU"),
    ("FROM shipment_lines JOIN shipments", "open inbound lines + shipments"),
    ("FROM sellers", "seller (enrolment, shrink)"),
    ("FROM orders WHERE orders.sku", "waiting orders of the SKU"),
    ("FROM orders WHERE orders.seller_id", "R4: seller's last judged head-start orders"),
    ("estimator_models", "in-stock model check"),
)


def label_of(statement: str) -> str:
    words = " ".join(statement.split())
    for fragment, name in STATEMENT_NAMES:
        if fragment in words:
            return name
    start = words.lower().find(" from ")
    return words[start + 1 : start + 61] if start >= 0 else words[:60]


def execution_ms(plan: str) -> float:
    return float(plan.rsplit("Execution Time:", 1)[1].split()[0])


def plan_shape(plan: str) -> list[str]:
    """The plan's nodes, without their costs and timings."""
    return [line.split("  (cost=")[0] for line in plan.splitlines() if "(cost=" in line]


def generic_plan(conn: psycopg.Connection[Any], statement: str, parameters: Any) -> str:
    """EXPLAIN ANALYZE of ``statement`` prepared and run with a generic plan: psycopg
    prepares a statement it has run 5 times on a connection, and PostgreSQL may then
    keep a generic plan for it, chosen without the parameters' values."""
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
    text = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", statement)
    conn.execute(f"PREPARE bench_statement AS {text}")
    try:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        values = sql.SQL(", ").join(sql.Literal(parameters[name]) for name in names)
        query = sql.SQL("EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_statement")
        if names:
            query = sql.SQL("{} ({})").format(query, values)
        conn.execute(query)
        return "\n".join(row[0] for row in conn.execute(query))
    finally:
        conn.execute("RESET plan_cache_mode")
        conn.execute("DEALLOCATE bench_statement")


def explain_offer(url: str, skus: dict[str, str]) -> list[Statement]:
    """Each statement ``get_offer`` runs for these SKUs (by kind), under EXPLAIN ANALYZE."""
    from headstart.bootstrap import build_runtime
    from headstart.config import Settings
    from headstart.services.offers import get_offer

    runtime = build_runtime(
        Settings(database_url=url, key_secret=KEY_SECRET, sandbox=False), migrate=False
    )
    captured: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        captured.append((statement, parameters))

    results: list[Statement] = []
    try:
        for kind, sku in skus.items():
            get_offer(runtime.reader(), runtime.estimators, sku, region=REGION, quantity=1)
            event.listen(runtime.engine, "before_cursor_execute", capture)
            try:
                captured.clear()
                get_offer(runtime.reader(), runtime.estimators, sku, region=REGION, quantity=1)
            finally:
                event.remove(runtime.engine, "before_cursor_execute", capture)
            with psycopg.connect(**connect_kwargs(url)) as conn:
                for statement, parameters in captured:
                    if not statement.lstrip().upper().startswith("SELECT"):
                        continue
                    query = "EXPLAIN (ANALYZE, BUFFERS) " + statement
                    conn.execute(query, parameters)  # warm, as the server's are
                    plan = "\n".join(row[0] for row in conn.execute(query, parameters))
                    generic = generic_plan(conn, statement, parameters)
                    results.append(
                        Statement(
                            kind,
                            label_of(statement),
                            statement,
                            execution_ms(plan),
                            plan,
                            execution_ms(generic),
                            generic,
                        )
                    )
    finally:
        runtime.engine.dispose()
    return results


# ------------------------------------------------------------------ the run


@dataclass
class Level:
    skus: int
    orders: int
    seeding: Seeding
    startup_seconds: float
    memory_started: Memory
    memory_loaded: Memory
    offers: dict[str, Latency]
    healthz: Latency
    database_bytes: int
    statements: list[Statement]


def run_level(args: argparse.Namespace, skus: int, log_path: Path) -> Level:
    orders = round(skus * args.orders_per_sku)
    console.rule(f"{skus:,} SKUs, {orders:,} orders")
    with scratch_database(args.admin_url) as url:
        seeding = seed(url, skus, orders, args.skus_per_seller)
        console.print(
            f"seeded in {seeding.total_seconds:.1f} s (template {seeding.template_seconds:.1f} s, "
            f"VACUUM ANALYZE {seeding.analyze_seconds:.1f} s, bulk SQL "
            f"{seeding.bulk_seconds:.1f} s: "
            + ", ".join(f"{step} {seconds:.1f}" for step, seconds in seeding.steps.items())
            + "); rows: "
            + ", ".join(f"{table} {count:,}" for table, count in seeding.rows.items())
        )
        startups = []
        for _ in range(args.starts - 1):  # start-up alone, then once more to measure
            with running_server(url, args.workers, log_path, OPERATOR_KEY) as server:
                startups.append(server.startup_seconds)
        with running_server(url, args.workers, log_path, OPERATOR_KEY) as server:
            startups.append(server.startup_seconds)
            started = memory_of(server.pid, url)
            check_offers(server.base, skus, random.Random(args.seed))

            def offer(rng: random.Random) -> tuple[str, str]:
                n = rng.randrange(skus)
                return kind_of(n), f"/v1/offers/{sku_name(n)}?region={REGION}"

            def offer_or_healthz(rng: random.Random) -> tuple[str, str]:
                # Interleaved, so the baseline sees the same load on the machine.
                return ("healthz", "/healthz") if rng.random() < 0.5 else offer(rng)

            with console.status("warming up"):
                closed_loop(server.base, offer, args.warmup, args.connections)
            with console.status(f"{args.requests} offers and as many /healthz"):
                mixed = closed_loop(
                    server.base, offer_or_healthz, 2 * args.requests, args.connections
                )
            healthz_latency = mixed.latency("healthz")
            offers = {kind: mixed.latency(kind) for kind in KINDS}
            offers["all"] = mixed.latency(*KINDS)
            loaded = memory_of(server.pid, url)
            statements = explain_offer(url, {kind: sku_name(n) for kind, n in EXPLAINED})
        return Level(
            skus,
            orders,
            seeding,
            statistics.median(startups),
            started,
            loaded,
            offers,
            healthz_latency,
            database_bytes(url),
            statements,
        )


def mib(kib: int) -> str:
    return f"{kib / 1024:,.0f}"


def print_level(level: Level, explain: bool) -> None:
    table = Table(title=f"{level.skus:,} SKUs, {level.orders:,} orders")
    table.add_column("requests")
    for column in ("n", "p50 ms", "p99 ms", "errors"):
        table.add_column(column, justify="right")
    for label in ("all", *KINDS):
        if label in level.offers:
            got = level.offers[label]
            name = "offers, all" if label == "all" else f"  {label}"
            table.add_row(
                name, str(got.count), f"{got.p50_ms:.1f}", f"{got.p99_ms:.1f}", str(got.errors)
            )
    got = level.healthz
    table.add_row(
        "/healthz (baseline)",
        str(got.count),
        f"{got.p50_ms:.1f}",
        f"{got.p99_ms:.1f}",
        str(got.errors),
    )
    console.print(table)
    memory = Table(title="memory (RSS, MiB)")
    memory.add_column("process")
    memory.add_column("started", justify="right")
    memory.add_column("after the load", justify="right")
    for (name, before), (_, after) in zip(
        level.memory_started.by_process, level.memory_loaded.by_process, strict=False
    ):
        memory.add_row(name, mib(before), mib(after))
    memory.add_row(
        "PostgreSQL backends",
        mib(level.memory_started.backends_kib),
        mib(level.memory_loaded.backends_kib),
    )
    console.print(memory)
    console.print(
        f"start-up {level.startup_seconds:.2f} s; database {level.database_bytes / 2**20:,.0f} MiB"
    )
    statements = Table(
        title="an offer's statements: EXPLAIN ANALYZE execution ms (warm), custom / generic plan"
    )
    statements.add_column("statement")
    for kind, n in EXPLAINED:
        statements.add_column(f"{kind} ({sku_name(n)})", justify="right")
    for label, by_kind in statement_ms(level).items():
        statements.add_row(
            label,
            *(
                f"{by_kind[kind][0]:.3f} / {by_kind[kind][1]:.3f}" if kind in by_kind else "-"
                for kind, _ in EXPLAINED
            ),
        )
    console.print(statements)
    if explain:
        for statement in level.statements:
            console.print(f"\n[bold]{statement.kind}[/]: {' '.join(statement.sql.split())}")
            console.print(statement.plan, markup=False, highlight=False)
            if plan_shape(statement.generic_plan) != plan_shape(statement.plan):
                console.print("generic plan:", markup=False)
                console.print(statement.generic_plan, markup=False, highlight=False)


def statement_ms(level: Level) -> dict[str, dict[str, tuple[float, float]]]:
    """Execution ms (custom plan, generic plan) by statement, then by SKU kind."""
    found: dict[str, dict[str, tuple[float, float]]] = {}
    for statement in level.statements:
        found.setdefault(statement.label, {})[statement.kind] = (
            statement.milliseconds,
            statement.generic_ms,
        )
    return found


def print_growth(levels: list[Level]) -> None:
    base = levels[0]
    table = Table(title=f"growth factors relative to {base.skus:,} SKUs")
    for column in (
        "SKUs",
        "SKU x",
        "offers p50 x",
        "offers p99 x",
        "head-start p50 x",
        "healthz p50 x",
        "worker RSS x",
        "all RSS x",
        "start-up x",
        "database x",
        "slowest statement x",
    ):
        table.add_column(column, justify="right")

    def ratio(value: float, reference: float) -> str:
        return f"{value / reference:.2f}" if reference else "-"

    def slowest(level: Level) -> float:
        return max((s.milliseconds for s in level.statements), default=0.0)

    for level in levels:
        table.add_row(
            f"{level.skus:,}",
            ratio(level.skus, base.skus),
            ratio(level.offers["all"].p50_ms, base.offers["all"].p50_ms),
            ratio(level.offers["all"].p99_ms, base.offers["all"].p99_ms),
            ratio(level.offers["head_start"].p50_ms, base.offers["head_start"].p50_ms),
            ratio(level.healthz.p50_ms, base.healthz.p50_ms),
            ratio(max(level.memory_loaded.workers_kib), max(base.memory_loaded.workers_kib)),
            ratio(level.memory_loaded.total_kib, base.memory_loaded.total_kib),
            ratio(level.startup_seconds, base.startup_seconds),
            ratio(level.database_bytes, base.database_bytes),
            ratio(slowest(level), slowest(base)),
        )
    console.print(table)
    summary = Table(title="per size")
    for column in (
        "SKUs",
        "seed s",
        "offers p50 / p99 ms",
        "healthz p50 / p99 ms",
        "worker RSS MiB",
        "all RSS MiB",
        "start-up s",
        "database MiB",
    ):
        summary.add_column(column, justify="right")
    for level in levels:
        summary.add_row(
            f"{level.skus:,}",
            f"{level.seeding.total_seconds:.0f}",
            f"{level.offers['all'].p50_ms:.1f} / {level.offers['all'].p99_ms:.1f}",
            f"{level.healthz.p50_ms:.1f} / {level.healthz.p99_ms:.1f}",
            " / ".join(mib(kib) for kib in level.memory_loaded.workers_kib),
            mib(level.memory_loaded.total_kib),
            f"{level.startup_seconds:.2f}",
            f"{level.database_bytes / 2**20:,.0f}",
        )
    console.print(summary)
    across = Table(title="an offer's statements across sizes: slowest of the three SKUs, ms")
    across.add_column("statement")
    for level in levels:
        across.add_column(f"{level.skus:,}", justify="right")
    across.add_column("x", justify="right")
    by_level = [statement_ms(level) for level in levels]
    for label in by_level[0]:
        values = [
            max((ms for ms, _ in found.get(label, {}).values()), default=0.0) for found in by_level
        ]
        across.add_row(
            label,
            *(f"{value:.3f}" for value in values),
            f"{values[-1] / values[0]:.1f}" if values[0] else "-",
        )
    console.print(across)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="SKUs per level")
    parser.add_argument("--orders-per-sku", type=float, default=1.0)
    parser.add_argument("--admin-url", default=ADMIN_URL, help="PostgreSQL to make scratch dbs")
    parser.add_argument("--workers", type=int, default=2, help="headstart serve --workers")
    parser.add_argument("--requests", type=int, default=3000, help="offers (and /healthz) timed")
    parser.add_argument("--warmup", type=int, default=300, help="offers before the timed ones")
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument(
        "--skus-per-seller", type=int, default=SKUS_PER_SELLER, help="a multiple of 100"
    )
    parser.add_argument(
        "--starts", type=int, default=3, help="server starts per size (the median is reported)"
    )
    parser.add_argument("--explain", action="store_true", help="print each statement's plan")
    args = parser.parse_args()
    # Ctrl-C (even when started in the background, where SIGINT is ignored) and SIGTERM
    # unwind through the ``finally`` blocks: the server stops, the databases are dropped.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(f"{parser.prog}: terminated"))
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.skus_per_seller < 100 or args.skus_per_seller % 100:
        parser.error("--skus-per-seller must be a multiple of 100")
    if any(size < 100 or size % 100 for size in sizes):
        parser.error("each size must be a multiple of 100")
    console.print(
        f"headstart serve --workers {args.workers}, {os.cpu_count()} cores, load average "
        + " ".join(f"{load:.1f}" for load in os.getloadavg())
        + f"; {args.requests} offers and as many /healthz, interleaved, over "
        f"{args.connections} connections; {args.skus_per_seller:,} SKUs a seller; "
        f"start-up: median of {args.starts}"
    )
    log_path = Path(tempfile.gettempdir()) / f"bench-scale-{os.getpid()}.log"
    levels = []
    for size in sizes:
        level = run_level(args, size, log_path)
        print_level(level, args.explain)
        levels.append(level)
    print_growth(levels)
    log_path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
