"""Where placing an order spends its time, in-process (issues 6 and 8).

Builds the simulator's marketplace (``sim/market/run.py``'s set-up: four FCs, ``--sellers``
enrolled sellers, ``--skus`` SKUs with opening stock, a stored in-stock model) on a
scratch SQLite file and/or a scratch PostgreSQL database, plays ``--warm-days``
simulated days (shipments in flight, head-start orders waiting), then:

1. the simulator's day: ``--days`` more simulated days with each step of the day timed
   (CPU seconds of this process) and every ``place_order`` / ``cancel_order`` call timed,
   its statements counted (an SQLAlchemy ``before_cursor_execute`` event);
2. placement alone: ``--orders`` orders placed in a loop (``orders.place_order``, one
   transaction each, as the simulator and ``POST /v1/orders`` do) on SKUs whose
   published offer is buyable, under cProfile: CPU per order, statements per order by
   kind, the cumulative time of each phase of ``place_order``, the top functions.

CPU is this process's only: PostgreSQL's own work runs in its server processes.

Run: ``.venv/bin/python bench/profile_orders.py [--database sqlite|postgresql|both]
[--skus 2000] [--sellers 80] [--warm-days 4] [--days 2] [--orders 2000] [--prof FILE]``
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from served import scratch_postgres
from sqlalchemy import event, select

from headstart.bootstrap import Runtime, build_runtime
from headstart.config import Settings
from headstart.domain.errors import Unavailable
from headstart.services import orders
from headstart.sim.market import run as market_run
from headstart.sim.market.config import MarketConfig
from headstart.store.database import skip_sqlite_fsync_per_commit
from headstart.store.tables import ProductRow

OPERATOR_KEY = "hs_op_profile_orders"
REGIONS = ("us-west", "us-central", "us-east")

# (label, a piece of the file's path, the function's name): cumulative time per order.
PHASES = (
    ("UnitOfWork.__enter__ (session, BEGIN)", "store/uow.py", "__enter__"),
    ("uow.now (sandbox clock read)", "store/uow.py", "now"),
    ("lock_sku", "store/uow.py", "lock_sku"),
    ("lock_sku_with_stock", "store/uow.py", "lock_sku_with_stock"),
    ("_replay (idempotency lookup)", "services/orders.py", "_replay"),
    ("policy_and_fcs (offer cache or read)", "services/offers.py", "policy_and_fcs"),
    ("load_policy", "services/policy.py", "load_policy"),
    ("load_fcs", "services/sku_state.py", "load_fcs"),
    ("load_sku_state", "services/sku_state.py", "load_sku_state"),
    ("  waiting_of", "services/waiting_orders.py", "waiting_of"),
    ("  lots_of", "services/sku_state.py", "lots_of"),
    ("  recent_on_time_of", "services/sku_state.py", "recent_on_time_of"),
    ("EstimatorCache.current", "services/estimation.py", "current"),
    ("SkuState.supply", "services/sku_state.py", "supply"),
    ("quote", "domain/placement.py", "quote"),
    ("publish_if_changed", "services/publishing.py", "publish_if_changed"),
    ("  offer_summary", "services/publishing.py", "offer_summary"),
    ("  enqueue (outbox)", "services/outbox.py", "enqueue"),
    ("order_view", "services/views.py", "order_view"),
    ("plain_sql.plain_rows (Core reads)", "store/plain_sql.py", "plain_rows"),
    ("plain_sql.insert_row (Core inserts)", "store/plain_sql.py", "insert_row"),
    ("plain_sql.update_row (Core updates)", "store/plain_sql.py", "update_row"),
    ("Session.flush", "sqlalchemy/orm/session.py", "flush"),
    ("Session._autoflush", "sqlalchemy/orm/session.py", "_autoflush"),
    ("UnitOfWork.commit", "store/uow.py", "commit"),
    ("UnitOfWork.__exit__ (close)", "store/uow.py", "__exit__"),
    ("driver: sqlite3 execute", "~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
    ("driver: psycopg execute", "psycopg/cursor.py", "execute"),
)


@contextmanager
def scratch_sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="headstart-profile-") as folder:
        yield f"sqlite:///{Path(folder) / 'profile.db'}"


_VERB = re.compile(r"\s*(\w+)")
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\(?(\w+)", re.IGNORECASE)
_WHERE = re.compile(r"\bWHERE\s+\(?(\w+\.\w+)", re.IGNORECASE)


def statement_kind(statement: str) -> str:
    verb = _VERB.match(statement)
    table = _TABLE.search(statement)
    where = _WHERE.search(statement)
    kind = f"{verb.group(1).upper() if verb else '?'} {table.group(1) if table else ''}"
    if "max(" in statement.lower() and "estimator_models" in statement:
        return "SELECT max(model id), max(outcome id)"
    return f"{kind} WHERE {where.group(1)}" if where else kind


class Statements:
    """Every statement the engine sends, by kind."""

    def __init__(self, runtime: Runtime) -> None:
        self.total = 0
        self.kinds: Counter[str] = Counter()
        self.recording = False

        @event.listens_for(runtime.engine, "before_cursor_execute")
        def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            self.total += 1
            if self.recording:
                self.kinds[statement_kind(statement)] += 1


class Timed:
    """CPU seconds and calls of the wrapped functions, and statements during them."""

    def __init__(self, statements: Statements) -> None:
        self.statements = statements
        self.cpu: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started, sent = time.process_time(), self.statements.total
            try:
                return function(*args, **kwargs)
            finally:
                self.cpu[name] += time.process_time() - started
                self.calls[name] += 1
                self.sent[name] += self.statements.total - sent

        return timed


def build(url: str) -> Runtime:
    runtime = build_runtime(Settings(database_url=url, sandbox=True, operator_key=OPERATOR_KEY))
    skip_sqlite_fsync_per_commit(runtime.engine)  # as the simulator does
    return runtime


def play_days(market: market_run.Market, first: int, days: int, timed: Timed) -> float:
    """The simulator's days, each part of a day timed; returns CPU seconds."""
    patched = {
        (market_run, "set_clock"),
        (market_run, "move_clock"),
        (orders, "place_order"),
        (orders, "cancel_order"),
        (orders, "confirm_delay"),
    }
    methods = ("run_due", "serve_buyers", "answer_delays", "review_stock", "count_day")
    saved = {(owner, name): getattr(owner, name) for owner, name in patched}
    for owner, name in patched:
        setattr(owner, name, timed.wrap(name, getattr(owner, name)))
    for name in methods:
        setattr(market, name, timed.wrap(name, getattr(market, name)))
    started = time.process_time()
    try:
        for day in range(first, first + days):
            market.play_day(day)
    finally:
        for (owner, name), function in saved.items():
            setattr(owner, name, function)
        for name in methods:
            delattr(market, name)
    return time.process_time() - started


def buyable_skus(runtime: Runtime) -> tuple[list[str], list[str]]:
    """SKUs whose published offer is buyable: (in stock, head start only)."""
    with runtime.reader() as uow:
        rows = uow.session.execute(select(ProductRow.sku, ProductRow.offer)).all()
    in_stock = [sku for sku, offer in rows if offer and offer.get("source") == "in_stock"]
    head_start = [sku for sku, offer in rows if offer and offer.get("source") == "head_start"]
    return sorted(in_stock), sorted(head_start)


def place_many(runtime: Runtime, count: int, seed: int) -> Counter[str]:
    in_stock, head_start = buyable_skus(runtime)
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    for number in range(count):
        # One order in ten on a head-start SKU, when there are any: the costlier path.
        pool = head_start if head_start and number % 10 == 0 else in_stock
        try:
            view, _ = orders.place_order(
                runtime.uow(),
                runtime.estimators,
                sku=rng.choice(pool),
                quantity=1,
                region=rng.choice(REGIONS),
                buyer_ref=f"profile-{number}",
                placed_by=market_run.STOREFRONT,
            )
            outcomes[str(view["source"])] += 1
        except Unavailable:
            outcomes["unavailable"] += 1
    return outcomes


def phase_table(stats: pstats.Stats, orders_placed: int) -> list[str]:
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    lines = []
    for label, path, name in PHASES:
        calls = 0
        cumulative = 0.0
        for (file, _, function), (_, ncalls, _, ct, _) in raw.items():
            if function == name and path in file.replace("\\", "/"):
                calls += ncalls
                cumulative += ct
        if calls:
            lines.append(
                f"  {label:40s} {cumulative / orders_placed * 1e3:7.3f} ms/order "
                f"{calls / orders_placed:6.2f} calls/order"
            )
    return lines


def profile_engine(label: str, url: str, args: argparse.Namespace) -> None:
    print(f"\n=== {label} ===")
    runtime = build(url)
    statements = Statements(runtime)
    config = MarketConfig(
        days=args.warm_days + args.days, sellers=args.sellers, skus=args.skus, seed=args.seed
    )
    market = market_run.Market(runtime, config)
    began = time.process_time()
    market.setup()
    print(f"set-up {time.process_time() - began:.1f} CPU s")
    warm = play_days(market, 0, args.warm_days, Timed(statements))
    print(f"{args.warm_days} warm-up day(s): {warm:.1f} CPU s")

    timed = Timed(statements)
    cpu = play_days(market, args.warm_days, args.days, timed)
    print(
        f"\nsimulator, {args.days} day(s) at {args.skus} SKUs / {args.sellers} sellers: "
        f"{cpu / args.days:.2f} CPU s per simulated day"
    )
    for name, seconds in timed.cpu.most_common():
        calls = timed.calls[name]
        print(
            f"  {name:14s} {seconds / args.days:6.2f} CPU s/day  {calls / args.days:8.1f} "
            f"calls/day  {seconds / calls * 1e3:7.3f} ms/call  "
            f"{timed.sent[name] / calls:6.1f} statements/call"
        )

    if not args.orders:
        runtime.engine.dispose()
        return
    profiler = cProfile.Profile()
    statements.kinds.clear()
    statements.recording = True
    sent = statements.total
    began_cpu, began_wall = time.process_time(), time.perf_counter()
    profiler.enable()
    outcomes = place_many(runtime, args.orders, args.seed)
    profiler.disable()
    cpu, wall = time.process_time() - began_cpu, time.perf_counter() - began_wall
    statements.recording = False
    per_order = statements.total - sent
    placed = sum(outcomes.values())
    print(
        f"\nplacement alone, {placed} orders {dict(outcomes)} (under cProfile: "
        f"{cpu / placed * 1e3:.2f} CPU ms/order, {wall / placed * 1e3:.2f} ms wall)"
    )
    # Without the profiler, the same mix once more: the figure to compare.
    began_cpu, began_wall = time.process_time(), time.perf_counter()
    again = place_many(runtime, args.orders, args.seed + 1)
    cpu, wall = time.process_time() - began_cpu, time.perf_counter() - began_wall
    placed_again = sum(again.values())
    print(
        f"placement alone, no profiler, {placed_again} orders {dict(again)}: "
        f"{cpu / placed_again * 1e3:.2f} CPU ms/order, {wall / placed_again * 1e3:.2f} ms wall"
    )
    print(f"statements per order: {per_order / placed:.2f} (profiled run)")
    for kind, count in statements.kinds.most_common():
        print(f"  {count / placed:6.2f}  {kind}")
    stats = pstats.Stats(profiler)
    print("phases of place_order (cumulative, per order placed, profiled):")
    print("\n".join(phase_table(stats, placed)))
    if args.prof:
        path = Path(f"{args.prof}.{label}.prof")
        stats.dump_stats(path)
        print(f"profile written to {path}")
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(args.top)
        text = out.getvalue()
        print(f"top {args.top} by {order}:")
        print(text[text.find("   ncalls") :].rstrip())
    runtime.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--sellers", type=int, default=80)
    parser.add_argument("--warm-days", type=int, default=4)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--prof", help="write each engine's profile to PROF.<engine>.prof")
    args = parser.parse_args()
    if args.database in ("sqlite", "both"):
        with scratch_sqlite() as url:
            profile_engine("sqlite", url, args)
    if args.database in ("postgresql", "both"):
        with scratch_postgres("headstart_profile") as url:
            profile_engine("postgresql", url, args)


if __name__ == "__main__":
    main()
