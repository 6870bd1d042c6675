"""``POST /v1/orders`` on PostgreSQL with concurrent clients (issue 8, item 2).

Starts the real ``headstart serve`` (``--workers N``, production mode) on a scratch
PostgreSQL database, seeds it over HTTP (one FC, one seller, ``--skus`` products and
one hot product with plenty of stock on hand, one product with only ``--race-units``),
then for ``--duration`` seconds each:

1. many SKUs: ``--clients`` threads, each with its own connection, place one-unit
   orders (each with its own ``Idempotency-Key``) on random SKUs;
2. one hot SKU: the same, every order on the hot product (one row lock for all);
3. a sell-out race (not timed against anything): the same on the scarce product until
   its units are gone and later requests get 409 ``unavailable``.

Baseline, in the same run and database: the bare reservation transaction through
psycopg, one conditional UPDATE of the SKU's counter (``available >= quantity``) and
one INSERT of the order, committed, from the same number of threads on the same SKUs
(phases 1 and 2).

Then it checks that nothing was oversold: for every SKU, units on hand plus units
allocated to orders equal the units stocked, none negative, and the orders the API
created carry exactly the allocated units (the scarce SKU: exactly ``--race-units``).

Target (issue 8): the API places >= 50% of the bare transaction's orders per second;
zero oversell.

Run: ``.venv/bin/python bench/bench_orders_pg.py [--workers 2] [--clients 16]
[--skus 200] [--duration 10] [--race-units 300]``
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from served import running_server, scratch_postgres
from sqlalchemy.engine import make_url

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
OPERATOR_KEY = "hs_op_bench_orders"
REGION = "us-west"
STOCK = 1_000_000  # units of each ordinary SKU: never the limit
TARGET_RATIO = 0.50


@contextmanager
def scratch_database() -> Iterator[tuple[str, dict[str, object]]]:
    """A fresh database: its SQLAlchemy URL and psycopg's connection arguments."""
    with scratch_postgres("headstart_bench", ADMIN_URL) as url:
        made = make_url(url)
        connect = {"host": made.host, "port": made.port, "user": made.username}
        yield url, {**connect, "dbname": made.database}


@dataclass(frozen=True)
class Marketplace:
    skus: list[str]
    hot: str
    scarce: str
    race_units: int
    storefront: dict[str, str]  # headers

    def stocked(self, sku: str) -> int:
        return self.race_units if sku == self.scarce else STOCK


def seed(base: str, skus: int, race_units: int) -> Marketplace:
    """Over HTTP, as the operator and a seller would."""
    operator = {"Authorization": f"Bearer {OPERATOR_KEY}"}
    with httpx.Client(base_url=base, timeout=60) as client:

        def call(method: str, path: str, body: object, headers: dict[str, str]) -> object:
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code in (200, 201), (path, response.text)
            return response.json()

        call(
            "POST",
            "/v1/fulfillment-centers",
            {
                "code": "LAX1",
                "time_zone": "America/Los_Angeles",
                "region": REGION,
                "handling_days": 1,
                "cutoff_local_time": "14:00",
                "holidays": [],
                "outbound_transit_days": {REGION: 2},
            },
            operator,
        )
        seller = call("POST", "/v1/sellers", {"name": "Bench", "email": "b@example.com"}, operator)
        assert isinstance(seller, dict)
        seller_headers = {"Authorization": f"Bearer {seller['api_key']}"}
        key = call("POST", "/v1/storefront-keys", {"name": "bench-shop"}, operator)
        assert isinstance(key, dict)
        names = [f"SKU-{n:05d}" for n in range(skus)]
        hot, scarce = "HOT-00001", "SCARCE-00001"
        for sku in [*names, hot, scarce]:
            call("PUT", f"/v1/products/{sku}", {"title": sku, "price": "9.99"}, seller_headers)
            units = race_units if sku == scarce else STOCK
            call(
                "POST",
                "/v1/inventory/adjustments",
                {"sku": sku, "fc": "LAX1", "delta": units, "reason": "bench"},
                operator,
            )
        storefront = {"Authorization": f"Bearer {key['api_key']}"}
        return Marketplace(names, hot, scarce, race_units, storefront)


@dataclass
class Phase:
    placed: int = 0
    refused: int = 0  # 409 unavailable: the hot SKU ran out
    failed: Counter[int] | None = None
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.placed / self.seconds if self.seconds else 0.0


def hammer(clients: int, duration: float, attempt: Callable[[random.Random], int]) -> Phase:
    """``clients`` threads call ``attempt`` (returning an HTTP-like status) until time is up."""
    phase = Phase(failed=Counter())
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def run(seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        placed = refused = 0
        failed: Counter[int] = Counter()
        while time.perf_counter() < stop_at[0]:
            status = attempt(rng)
            if status in (200, 201):
                placed += 1
            elif status == 409:
                refused += 1
            else:
                failed[status] += 1
        with lock:
            phase.placed += placed
            phase.refused += refused
            assert phase.failed is not None
            phase.failed.update(failed)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + duration
    start.wait()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - began
    return phase


def api_attempt(base: str, market: Marketplace, pick: Callable[[random.Random], str]):
    local = threading.local()

    def attempt(rng: random.Random) -> int:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, timeout=60)
        sku = pick(rng)
        response = local.client.post(
            "/v1/orders",
            json={"sku": sku, "quantity": 1, "region": REGION, "buyer_ref": "bench"},
            headers={**market.storefront, "Idempotency-Key": uuid.uuid4().hex},
        )
        return response.status_code

    return attempt


def bare_attempt(connect: dict[str, object], pick: Callable[[random.Random], str]):
    """The reservation transaction alone: a conditional UPDATE and an INSERT, committed."""
    local = threading.local()

    def attempt(rng: random.Random) -> int:
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(**connect)  # type: ignore[arg-type]
        conn = local.conn
        sku = pick(rng)
        with conn.transaction():
            cursor = conn.execute(
                "UPDATE bare_stock SET available = available - 1 WHERE sku = %s AND available >= 1",
                (sku,),
            )
            if cursor.rowcount != 1:
                return 409
            conn.execute(
                "INSERT INTO bare_orders (sku, quantity, buyer_ref) VALUES (%s, 1, %s)",
                (sku, "bench"),
            )
        return 201

    return attempt


def bare_tables(connect: dict[str, object], market: Marketplace) -> None:
    with psycopg.connect(**connect, autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute("CREATE TABLE bare_stock (sku text PRIMARY KEY, available integer NOT NULL)")
        conn.execute(
            "CREATE TABLE bare_orders (id bigserial PRIMARY KEY, sku text NOT NULL, "
            "quantity integer NOT NULL, buyer_ref text NOT NULL, "
            "created_at timestamptz NOT NULL DEFAULT now())"
        )
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bare_stock VALUES (%s, %s)",
                [(sku, STOCK) for sku in [*market.skus, market.hot]],
            )


def oversold(connect: dict[str, object], market: Marketplace) -> list[str]:
    """Every way the API's counts could disagree; empty when nothing was oversold."""
    problems = []
    with psycopg.connect(**connect) as conn:  # type: ignore[arg-type]
        stock = {
            sku: (sellable, allocated)
            for sku, sellable, allocated in conn.execute(
                "SELECT sku, sellable, allocated FROM stock"
            )
        }
        ordered = dict(
            conn.execute(
                "SELECT sku, sum(quantity) FROM orders WHERE status <> 'cancelled' GROUP BY sku"
            ).fetchall()
        )
    for sku in [*market.skus, market.hot, market.scarce]:
        sellable, allocated = stock[sku]
        stocked = market.stocked(sku)
        if sellable < 0 or sellable + allocated != stocked:
            problems.append(f"{sku}: {sellable} on hand + {allocated} allocated != {stocked}")
        if int(ordered.get(sku, 0)) != allocated:
            problems.append(f"{sku}: orders hold {ordered.get(sku, 0)}, {allocated} allocated")
    return problems


def line(name: str, api: Phase, bare: Phase) -> str:
    ratio = api.rate / bare.rate if bare.rate else 0.0
    errors = dict(api.failed or {})
    return (
        f"{name:10s} API {api.rate:7.1f} orders/s ({api.placed} placed, {api.refused} refused, "
        f"errors {errors}) | bare {bare.rate:7.1f}/s ({bare.placed} placed) | ratio {ratio:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--race-units", type=int, default=300)
    args = parser.parse_args()
    log = Path(tempfile.gettempdir()) / f"bench-orders-{os.getpid()}.log"
    with scratch_database() as (url, connect):
        with running_server(url, args.workers, log, OPERATOR_KEY) as served:
            base = served.base
            began = time.perf_counter()
            market = seed(base, args.skus, args.race_units)
            print(f"seeded {args.skus + 2} SKUs in {time.perf_counter() - began:.1f} s")
            bare_tables(connect, market)

            def many(rng: random.Random) -> str:
                return rng.choice(market.skus)

            def hot(_: random.Random) -> str:
                return market.hot

            results = []
            for name, pick in (("many SKUs", many), ("hot SKU", hot)):
                api = hammer(args.clients, args.duration, api_attempt(base, market, pick))
                bare = hammer(args.clients, args.duration, bare_attempt(connect, pick))
                results.append(line(name, api, bare))
                print(results[-1])
            race = hammer(
                args.clients, args.duration, api_attempt(base, market, lambda _: market.scarce)
            )
            print(
                f"sell-out  {race.placed} placed of {args.race_units} units, {race.refused} "
                f"refused, errors {dict(race.failed or {})}"
            )
        problems = oversold(connect, market)
    print(
        f"{args.clients} clients, {args.workers} API workers, PostgreSQL; target ratio >= "
        f"{TARGET_RATIO:.2f}"
    )
    print("oversold: none" if not problems else "OVERSOLD:\n  " + "\n  ".join(problems))


if __name__ == "__main__":
    main()
