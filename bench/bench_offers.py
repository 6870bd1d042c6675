"""``GET /v1/offers/{sku}`` under load, against a trivial JSON endpoint of the same server.

Starts the real ``headstart serve`` (``--workers N``, production mode: no sandbox clock)
on a fresh PostgreSQL database (or SQLite file), seeds it over HTTP with SKUs of every
kind a storefront asks about (out of stock with inbound lots at one or two FCs, some
with head-start orders waiting; in stock; nothing coming), warms every process up (each
SKU's offer asked ``WARM_ROUNDS`` times, so each process has computed and keeps most;
that cold pass's rate is printed apart), then drives:

1. peak: ``wrk`` (Debian's; a closed-loop Python generator if it is missing) for
   ``--duration`` seconds over ``--connections`` connections on random SKUs, then the
   same against ``GET /healthz`` (the baseline: FastAPI, the same middleware, no
   database), printing requests/s, p50 and p99 and the ratio of requests/s;
2. 80% of the offers' peak rate at a fixed rate, open loop (wrk cannot: a Python
   generator sends on a schedule and times each request from when it was due, so a
   stall is not hidden), printing p50 and p99. The generator shares the cores with the
   server, so "peak" here is the lower of wrk's and a Python closed loop's (32
   connections, a third of ``--duration``): what the server sustains beside it.

Server-side figures come from the server's own ``GET /metrics`` (the latency
histogram of the route, before and after each phase): requests counted and p50/p99
interpolated in its buckets. ``--profile`` prints where an offer's time goes
(cProfile of the service, in this process, over the same database).

Targets (issue 8): offers >= 70% of the baseline's requests/s; p99 <= 20 ms at 80%.

Run: ``.venv/bin/python bench/bench_offers.py [--database postgres|sqlite]
[--workers 2] [--skus 500] [--duration 15] [--connections 32] [--profile]``
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from served import KEY_SECRET, running_server, scratch_postgres

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
OPERATOR_KEY = "hs_op_bench"
OFFER_ROUTE = "/v1/offers/{sku}"
BASELINE_ROUTE = "/healthz"
REGION = "us-west"
FCS = (("LAX1", "America/Los_Angeles", "us-west"), ("EWR1", "America/New_York", "us-east"))
TARGET_RATIO = 0.70
TARGET_P99_MS = 20.0
WARM_ROUNDS = 4  # each SKU's offer asked this often before measuring


# ------------------------------------------------------------------ the server


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A scratch database, dropped afterwards."""
    with scratch_postgres("headstart_bench", admin_url) as url:
        yield url


@contextmanager
def sqlite_database() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="headstart-bench-")
    try:
        yield f"sqlite:///{folder}/bench.db"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------ the marketplace


@dataclass(frozen=True)
class Seeded:
    skus: list[str]
    kinds: dict[str, int]
    seconds: float


def seed(base: str, skus: int, rng: random.Random) -> Seeded:
    """Over HTTP, as sellers and the operator would: 60% of SKUs out of stock with inbound
    parcels at one or two FCs (every third with head-start orders waiting), 30% in stock,
    10% with nothing coming. Shipments carry up to 10 SKUs each."""
    started = time.perf_counter()
    operator = {"Authorization": f"Bearer {OPERATOR_KEY}"}
    now = datetime.now(UTC)
    with httpx.Client(base_url=base, timeout=60) as client:

        def call(method: str, path: str, headers: dict[str, str], **body: object) -> dict:
            response = client.request(method, path, headers=headers, json=body or None)
            assert response.status_code in (200, 201), (path, response.text)
            return dict(response.json())

        for code, zone, region in FCS:
            call(
                "POST",
                "/v1/fulfillment-centers",
                operator,
                code=code,
                time_zone=zone,
                region=region,
                handling_days=1,
                cutoff_local_time="14:00",
                holidays=[],
                outbound_transit_days={"us-west": 2, "us-east": 5}
                if region == "us-west"
                else {"us-west": 5, "us-east": 2},
            )
        storefront = {
            "Authorization": "Bearer "
            + call("POST", "/v1/storefront-keys", operator, name="shop")["api_key"]
        }
        created = call("POST", "/v1/sellers", operator, name="Bench", email="bench@example.com")
        seller_id = created["seller_id"]
        seller = {"Authorization": f"Bearer {created['api_key']}"}
        call("POST", f"/v1/sellers/{seller_id}/enrollment", seller)
        names = [f"BENCH-{n:06d}" for n in range(skus)]
        kinds = {"head_start": 0, "in_stock": 0, "nothing_coming": 0}
        inbound: dict[str, list[str]] = {code: [] for code, _, _ in FCS}
        waiting: list[str] = []
        for n, sku in enumerate(names):
            call("PUT", f"/v1/products/{sku}", seller, title=f"Bench product {n}", price="19.99")
            draw = rng.random()
            if draw < 0.6:
                kinds["head_start"] += 1
                fcs = [FCS[0][0]] if rng.random() < 0.7 else [FCS[0][0], FCS[1][0]]
                for fc in fcs:
                    inbound[fc].append(sku)
                if n % 3 == 0:
                    waiting.append(sku)
            elif draw < 0.9:
                kinds["in_stock"] += 1
                call(
                    "POST",
                    "/v1/inventory/adjustments",
                    operator,
                    sku=sku,
                    fc=FCS[0][0],
                    delta=rng.randint(5, 50),
                    reason="bench",
                )
            else:
                kinds["nothing_coming"] += 1
        created_at = (now - timedelta(hours=3)).isoformat()
        shipped_at = (now - timedelta(hours=2)).isoformat()
        for fc, carried in inbound.items():
            for start in range(0, len(carried), 10):
                shipment = f"SH-{fc}-{start:06d}"
                call(
                    "POST",
                    "/v1/shipments",
                    seller,
                    shipment_id=shipment,
                    destination_fc=fc,
                    carrier_program="partnered_carrier",
                    mode=rng.choice(["parcel", "ltl"]),
                    carrier="UPS",
                    tracking_ids=[f"1Z{shipment}"],
                    origin="US-TX",
                    created_at=created_at,
                    lines=[
                        {"sku": sku, "quantity": rng.randint(20, 200)}
                        for sku in carried[start : start + 10]
                    ],
                )
                call("POST", f"/v1/shipments/{shipment}/ship", seller, shipped_at=shipped_at)
        for n, sku in enumerate(waiting):
            for k in range(3):
                response = client.post(
                    "/v1/orders",
                    headers=storefront,
                    json={"sku": sku, "quantity": 1, "region": REGION, "buyer_ref": f"b{n}-{k}"},
                )
                assert response.status_code in (201, 409), response.text
    return Seeded(names, kinds, time.perf_counter() - started)


# ------------------------------------------------------------------ load


@dataclass(frozen=True)
class Load:
    tool: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk_peak(base: str, paths: Sequence[str], connections: int, duration: float) -> Load:
    """wrk, closed loop, random paths from ``paths`` (a Lua script picks per request)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        quoted = ",".join(f'"{path}"' for path in paths)
        script.write(
            f"local paths = {{{quoted}}}\n"
            "math.randomseed(os.time())\n"
            "request = function()\n"
            '  return wrk.format("GET", paths[math.random(#paths)])\n'
            "end\n"
        )
    try:
        output = subprocess.run(
            [
                "wrk",
                *("-t", str(min(2, connections))),
                *("-c", str(connections)),
                *("-d", f"{duration:g}s"),
                "--latency",
                # wrk leaves a request out of its percentiles once it times out (2 s by
                # default): a long timeout keeps slow answers in the p99.
                *("--timeout", "30s"),
                *("-s", script.name),
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = 0
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(found.group(1))
    if found := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(group) for group in found.groups())

    def percentile(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
        assert found, output
        return float(found.group(1)) * _WRK_UNITS[found.group(2)]

    return Load("wrk", requests, duration, percentile("50"), percentile("99"), errors)


class Connection:
    """One keep-alive HTTP/1.1 connection; far cheaper per request than an httpx client,
    so the generator leaves the CPU to the server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        return cls(*await asyncio.open_connection(host, port))

    async def get(self, host: str, path: str) -> int:
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = re.search(rb"(?i)content-length:\s*(\d+)", head)
        await self.reader.readexactly(int(length.group(1)) if length else 0)
        return status

    def close(self) -> None:
        self.writer.close()


async def python_load(
    base: str,
    paths: Sequence[str],
    duration: float,
    *,
    rate: float | None = None,
    connections: int = 32,
    seed_value: int = 1,
) -> Load:
    """Fixed ``rate`` (open loop: each request timed from when it was due) or, without a
    rate, as fast as ``connections`` closed-loop senders go."""
    url = httpx.URL(base)
    host, port = url.host, url.port or 80
    rng = random.Random(seed_value)
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    errors = 0
    idle: list[Connection] = []

    async def send(due: float) -> None:
        nonlocal errors
        path = rng.choice(paths)
        connection = idle.pop() if idle else None
        try:
            if connection is not None:
                try:
                    status = await connection.get(host, path)
                except (asyncio.IncompleteReadError, ConnectionError):
                    # The server closed it while idle (uvicorn's keep-alive is 5 s): reconnect,
                    # as any client would; the time it takes counts.
                    connection.close()
                    connection = None
            if connection is None:
                connection = await Connection.open(host, port)
                status = await connection.get(host, path)
        except (asyncio.IncompleteReadError, ConnectionError):
            errors += 1
            return
        latencies.append(loop.time() - due)
        errors += status != 200
        idle.append(connection)

    started = loop.time()
    if rate is not None:
        # At most ``connections`` requests in flight, as a storefront's pool would allow:
        # a request waiting for a connection is late, and its wait counts (timed from when
        # it was due). Unbounded, a stall would open hundreds of connections.
        slots = asyncio.Semaphore(connections)

        async def send_when_free(due: float) -> None:
            async with slots:
                await send(due)

        tasks = []
        for n in range(int(rate * duration)):
            due = started + n / rate
            wait = due - loop.time()
            await asyncio.sleep(max(wait, 0.0))  # behind schedule: still let sends run
            tasks.append(asyncio.create_task(send_when_free(due)))
        await asyncio.gather(*tasks)
    else:

        async def sender() -> None:
            while loop.time() - started < duration:
                await send(loop.time())

        await asyncio.gather(*(sender() for _ in range(connections)))
    seconds = loop.time() - started
    for connection in idle:
        connection.close()
    latencies.sort()
    tool = f"python, {rate:.0f}/s fixed" if rate is not None else "python, closed loop"
    return Load(
        tool,
        len(latencies),
        seconds,
        1000 * latencies[len(latencies) // 2],
        1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        errors,
    )


async def ask_each(base: str, paths: Sequence[str], rounds: int, connections: int = 4) -> Load:
    """Every path ``rounds`` times (shuffled), as fast as ``connections`` senders go: with
    N server processes, each then has most SKUs' offers kept."""
    url = httpx.URL(base)
    host, port = url.host, url.port or 80
    todo = [path for _ in range(rounds) for path in paths]
    random.Random(3).shuffle(todo)
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    errors = 0

    async def sender() -> None:
        nonlocal errors
        connection = await Connection.open(host, port)
        try:
            while todo:
                path = todo.pop()
                sent = loop.time()
                errors += await connection.get(host, path) != 200
                latencies.append(loop.time() - sent)
        finally:
            connection.close()

    started = loop.time()
    await asyncio.gather(*(sender() for _ in range(connections)))
    latencies.sort()
    return Load(
        "python, each SKU",
        len(latencies),
        loop.time() - started,
        1000 * latencies[len(latencies) // 2],
        1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        errors,
    )


# ------------------------------------------------------------------ the server's own figures


Histogram = dict[float, float]  # upper bound -> cumulative count


def route_histogram(base: str, route: str) -> Histogram:
    text = httpx.get(
        f"{base}/metrics", headers={"Authorization": f"Bearer {OPERATOR_KEY}"}, timeout=60
    ).text
    buckets: Histogram = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "headstart_http_request_duration_seconds_bucket"
                and sample.labels.get("route") == route
                and sample.labels.get("status") == "2xx"
            ):
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
    return buckets


@dataclass(frozen=True)
class ServerSide:
    requests: int
    p50_ms: float
    p99_ms: float


def server_side(before: Histogram, after: Histogram) -> ServerSide:
    """Requests and quantiles between two scrapes, linear within a bucket."""
    delta = sorted((bound, after[bound] - before.get(bound, 0.0)) for bound in after)
    total = delta[-1][1] if delta else 0.0

    def quantile(q: float) -> float:
        wanted, lower, below = q * total, 0.0, 0.0
        for bound, cumulative in delta:
            if cumulative >= wanted:
                if bound == float("inf"):
                    return lower * 1000
                share = (wanted - below) / (cumulative - below) if cumulative > below else 1.0
                return 1000 * (lower + (bound - lower) * share)
            lower, below = bound, cumulative
        return float("nan")

    return ServerSide(int(total), quantile(0.5), quantile(0.99))


# ------------------------------------------------------------------ a profile of one offer


def profile_offers(database_url: str, skus: Sequence[str], calls: int) -> None:
    """cProfile of ``services.offers.get_offer`` in this process: where an offer's time goes."""
    from headstart.bootstrap import build_runtime
    from headstart.config import Settings
    from headstart.services.offers import get_offer

    runtime = build_runtime(
        Settings(database_url=database_url, key_secret=KEY_SECRET), migrate=False
    )
    rng = random.Random(2)
    try:
        for sku in skus[:20]:  # warm the model and the statement cache
            get_offer(runtime.reader(), runtime.estimators, sku, region=REGION, quantity=1)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(calls):
            sku = rng.choice(skus)
            get_offer(runtime.reader(), runtime.estimators, sku, region=REGION, quantity=1)
        profiler.disable()
        per_call = 1000 * (time.perf_counter() - started) / calls
    finally:
        runtime.engine.dispose()
    print(f"\nprofile: {calls} offers in-process, {per_call:.2f} ms each (profiler on)")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


# ------------------------------------------------------------------ the run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--admin-url", default=ADMIN_URL, help="PostgreSQL to make a scratch db")
    parser.add_argument("--workers", type=int, default=2, help="headstart serve --workers")
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per phase")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--python-load", action="store_true", help="no wrk, even if installed")
    parser.add_argument("--profile", action="store_true", help="print a profile of get_offer")
    args = parser.parse_args()
    use_wrk = shutil.which("wrk") is not None and not args.python_load

    def database() -> AbstractContextManager[str]:
        if args.database == "postgres":
            return postgres_database(args.admin_url)
        return sqlite_database()

    log_path = Path(tempfile.gettempdir()) / f"bench-offers-{os.getpid()}.log"
    with database() as url, running_server(url, args.workers, log_path, OPERATOR_KEY) as served:
        base = served.base
        seeded = seed(base, args.skus, random.Random(args.seed))
        print(
            f"{args.database}, headstart serve --workers {args.workers}, {os.cpu_count()} cores; "
            f"seeded {len(seeded.skus)} SKUs {seeded.kinds} in {seeded.seconds:.1f} s; "
            f"load: {'wrk' if use_wrk else 'python'}, {args.connections} connections, "
            f"{args.duration:g} s a phase"
        )
        offer_paths = [f"/v1/offers/{sku}?region={REGION}" for sku in seeded.skus]

        def peak(paths: Sequence[str], route: str) -> tuple[Load, ServerSide]:
            before = route_histogram(base, route)
            if use_wrk:
                load = wrk_peak(base, paths, args.connections, args.duration)
            else:
                load = asyncio.run(
                    python_load(base, paths, args.duration, connections=args.connections)
                )
            return load, server_side(before, route_histogram(base, route))

        warmup = min(5.0, args.duration)
        # Every process warm: its in-stock model loaded, and (issue 8) each SKU's offer
        # computed and kept; the cold cost is measured and printed apart.
        cold = asyncio.run(ask_each(base, offer_paths, WARM_ROUNDS))
        asyncio.run(python_load(base, offer_paths, warmup, connections=4))
        offers, offers_server = peak(offer_paths, OFFER_ROUTE)
        baseline, baseline_server = peak([BASELINE_ROUTE], BASELINE_ROUTE)
        # The fixed-rate sender is Python on the same cores as the server: what the server
        # sustains beside it is what a Python closed loop reaches, often well below wrk's
        # peak once offers are cheap. 80% of the lower of the two.
        beside_python = asyncio.run(
            python_load(base, offer_paths, max(3.0, args.duration / 3), connections=32)
        )
        rate = 0.8 * min(offers.rate, beside_python.rate)
        before = route_histogram(base, OFFER_ROUTE)
        steady = asyncio.run(python_load(base, offer_paths, args.duration, rate=rate))
        steady_server = server_side(before, route_histogram(base, OFFER_ROUTE))

    rows = [
        ("offers, peak", offers, offers_server),
        ("offers, peak (python)", beside_python, None),
        ("healthz, peak (baseline)", baseline, baseline_server),
        ("offers, 80% of peak", steady, steady_server),
    ]
    print(
        f"\n{'phase':<26} {'tool':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6}   {'':7} {'p50 ms':>7} {'p99 ms':>7}"
    )
    for name, load, side in rows:
        server = f"server: {side.p50_ms:>7.2f} {side.p99_ms:>7.2f}" if side else ""
        print(
            f"{name:<26} {load.tool:<22} {load.rate:>8.0f} {load.p50_ms:>8.2f} "
            f"{load.p99_ms:>8.2f} {load.errors:>6}   {server}"
        )
    print(
        f"\nwarm-up: every SKU's offer asked {WARM_ROUNDS} times over 4 connections, "
        f"{cold.requests} requests in {cold.seconds:.1f} s ({cold.rate:.0f}/s; first answers "
        "are computed, later ones kept)"
    )
    ratio = offers.rate / baseline.rate if baseline.rate else 0.0
    print(
        f"\noffers/baseline requests/s: {ratio:.2f} (target >= {TARGET_RATIO:.2f}: "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'})"
    )
    print(
        f"p99 at 80% of peak ({rate:.0f}/s, of the lower peak): {steady.p99_ms:.1f} ms as sent, "
        f"{steady_server.p99_ms:.1f} ms in the server (target <= {TARGET_P99_MS:g} ms: "
        f"{'met' if steady.p99_ms <= TARGET_P99_MS else 'NOT met'})"
    )
    log_path.unlink(missing_ok=True)
    if args.profile:
        with database() as url:  # a second, smaller marketplace just for the profile
            with running_server(url, 1, log_path, OPERATOR_KEY) as served:
                base = served.base
                small = seed(base, min(args.skus, 300), random.Random(args.seed))
            profile_offers(url, small.skus, 500)
        log_path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
