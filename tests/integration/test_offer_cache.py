"""Offers kept per process (issue 8): answered from memory, never stale after a commit.

A second app over the same database stands for another process: its own engine, pool
and offer cache. What it commits reaches this app's kept offers through PostgreSQL's
NOTIFY or SQLite's data version, before this app's next answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url

from tests.integration.checks import at, set_policy
from tests.integration.conftest import AppFactory, Server
from tests.integration.databases import empty_database
from tests.support import T0, Market, expect

SKU = "HOT-1"


@pytest.fixture
def seller(market: Market) -> str:
    """40 units of HOT-1 shipped to LAX1 at T0: R5 offers 38."""
    seller = market.add_seller()
    market.add_product(seller, SKU)
    market.add_shipment(seller, "SH-1", {SKU: 40}, shipped_at=T0)
    return seller


@pytest.fixture
def other(market: Market, make_client: AppFactory) -> Market:
    """Another process over the same database, with the same storefront key."""
    return Market(make_client(), storefront=market.storefront, sellers=market.sellers)


def statements_during(engine: Engine, call: Callable[[], Any]) -> list[str]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        if not args[2].startswith("BEGIN"):  # SQLite's, sent by the engine's begin hook
            seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def eventually_kept(engine: Engine, market: Market, sku: str = SKU) -> list[str]:
    """Ask for the offer until it is answered from memory (the PostgreSQL feed starts
    listening on the first request); the statements the last answer ran."""
    deadline = time.monotonic() + 10
    while True:
        statements = statements_during(engine, lambda: market.offer(sku))
        if len(statements) <= 1 or time.monotonic() > deadline:
            return statements
        time.sleep(0.05)


def test_a_repeated_offer_reads_only_the_sandbox_clock(
    market: Market, seller: str, server: Server
) -> None:
    # given an offer answered once
    first = market.offer(SKU)

    # when it is asked for again, nothing having changed
    statements = eventually_kept(server.runtime.engine, market)

    # then the answer is the same, and the database was asked only what time it is
    assert market.offer(SKU) == first
    assert len(statements) == 1 and "settings" in statements[0], statements


def test_r6_an_order_through_another_process_is_in_this_ones_next_offer(
    market: Market, seller: str, other: Market, server: Server
) -> None:
    # given this process keeps the offer of 38 units
    assert market.offer(SKU)["available_quantity"] == 38
    eventually_kept(server.runtime.engine, market)
    assert other.offer(SKU)["available_quantity"] == 38

    # when the other process takes an order for 3 units
    order = expect(other.order(SKU, 3), 201)

    # then this process's very next offer counts it, and so does the other's own
    assert market.offer(SKU)["available_quantity"] == 35
    assert market.offer(SKU, quantity=35)["buyable"] is True
    assert market.offer(SKU, quantity=36)["buyable"] is False
    assert other.offer(SKU)["available_quantity"] == 35

    # when the other process cancels it
    cancel = other.client.post(f"/v1/orders/{order['order_id']}/cancel", headers=other.storefront)
    expect(cancel, 200)

    # then the units are back in this process's next offer
    assert market.offer(SKU)["available_quantity"] == 38


def test_an_order_through_this_process_is_in_its_next_offer(
    market: Market, seller: str, server: Server
) -> None:
    assert market.offer(SKU, quantity=38)["buyable"] is True
    eventually_kept(server.runtime.engine, market)

    expect(market.order(SKU, 2), 201)

    assert market.offer(SKU)["available_quantity"] == 36
    assert market.offer(SKU, quantity=38)["buyable"] is False


def test_r4_a_policy_change_through_another_process_reaches_every_kept_offer(
    market: Market, seller: str, other: Market, server: Server
) -> None:
    # given a kept offer resting on a lot 97% sure within the 21-day horizon
    assert market.offer(SKU)["buyable"] is True
    eventually_kept(server.runtime.engine, market)

    # when the other process shortens the horizon to a day
    set_policy(other, horizon_days=1)

    # then this process no longer offers the lot
    assert market.offer(SKU)["buyable"] is False


def test_r7_a_sandbox_clock_moved_by_another_process_moves_the_kept_dates(
    market: Market, seller: str, other: Market, server: Server
) -> None:
    before = market.offer(SKU)
    eventually_kept(server.runtime.engine, market)

    other.set_clock(at(T0, hours=24 * 30))  # a month later: the lot is overdue, "today" moved

    after = market.offer(SKU)
    assert after["promised_in_stock_date"] > before["promised_in_stock_date"]


def test_raw_sql_committed_by_another_process_reaches_the_kept_offer(
    market: Market, seller: str, make_client: AppFactory, server: Server
) -> None:
    # given a kept offer
    assert market.offer(SKU)["buyable"] is True
    eventually_kept(server.runtime.engine, market)
    other_engine = make_client().app.state.runtime.engine

    # when another process writes the row with SQL of its own (no service, no R16)
    with other_engine.begin() as connection:
        connection.execute(
            text("UPDATE products SET head_start_excluded = :yes WHERE sku = :sku"),
            {"yes": True, "sku": SKU},
        )

    # then this process's next offer reads it (R1a: excluded)
    assert market.offer(SKU)["buyable"] is False


# ---------------------------------------------------------------- PostgreSQL's feed


@pytest.fixture
def pg_market(postgres_server: Server) -> Iterator[Market]:
    empty_database(postgres_server.runtime.engine)
    market = Market(postgres_server.client)
    market.set_clock(T0)
    market.add_fc("LAX1", "America/Los_Angeles", region="us-west")
    market.add_storefront()
    seller = market.add_seller()
    market.add_product(seller, SKU)
    market.add_shipment(seller, "SH-1", {SKU: 40}, shipped_at=T0)
    yield market


def _psycopg(url: str) -> psycopg.Connection[Any]:
    parsed = make_url(url)
    return psycopg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        dbname=parsed.database,
        autocommit=True,
    )


@pytest.mark.postgres
def test_a_lost_listener_forgets_every_kept_offer(
    pg_market: Market, postgres_server: Server
) -> None:
    # given a kept offer
    assert pg_market.offer(SKU)["buyable"] is True
    statements = eventually_kept(postgres_server.runtime.engine, pg_market)
    assert len(statements) == 1, statements

    # when the listener's connection is cut, and meanwhile a change is committed that
    # no NOTIFY tells of (plain psycopg, past the engine)
    with _psycopg(postgres_server.url) as connection:
        cut = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'headstart-offer-changes'"
            " AND datname = current_database()"
        ).fetchall()
        connection.execute("UPDATE products SET head_start_excluded = true WHERE sku = %s", (SKU,))
    assert cut == [(True,)]

    # then the next offer is read afresh (while down, or after listening again)
    assert pg_market.offer(SKU)["buyable"] is False
    # ... and once listening again, offers are kept again
    assert len(eventually_kept(postgres_server.runtime.engine, pg_market)) == 1
