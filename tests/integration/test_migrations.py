"""The single Alembic revision creates exactly the schema that store/tables.py describes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.orm import Session

from headstart.domain.notifications import Notification
from headstart.services.outbox import enqueue
from headstart.store.database import make_engine
from headstart.store.migrate import find_migrations_dir, upgrade_to_head
from headstart.store.tables import OutboxRow
from tests.integration.databases import schema_differences
from tests.pg import temporary_database


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/schema.db"
    else:
        with temporary_database() as url:
            yield url


def test_migrations_create_the_schema_the_tables_describe(empty_url: str) -> None:
    engine = create_engine(empty_url)
    try:
        upgrade_to_head(engine)
        with engine.connect() as connection:
            differences = schema_differences(connection)
    finally:
        engine.dispose()

    assert differences == []


@pytest.mark.postgres
def test_row_ids_go_past_two_to_the_31_on_postgresql() -> None:
    # Given the schema at head on PostgreSQL, whose serial sequences were AS integer
    with temporary_database() as url:
        engine = create_engine(url)
        try:
            upgrade_to_head(engine)
            with engine.begin() as connection:
                kinds = dict(
                    connection.execute(
                        text("SELECT sequencename, data_type::text FROM pg_sequences")
                    ).all()
                )
                # When the outbox's sequence is past 2**31 and a notification is recorded
                connection.execute(text("ALTER SEQUENCE outbox_id_seq RESTART WITH 2147483648"))
                enqueue(Session(bind=connection), NOTICE, NOW)
                ids = list(connection.scalars(select(OutboxRow.id)))
        finally:
            engine.dispose()

    # Then every sequence is 64-bit and the row got its id
    assert kinds and set(kinds.values()) == {"bigint"}, kinds
    assert ids == [2**31]


def _migrate(engine: Engine, step: str, revision: str) -> None:
    """``command.upgrade`` or ``command.downgrade`` to ``revision``, as upgrade_to_head runs it."""
    config = Config()
    config.set_main_option("script_location", str(find_migrations_dir()).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, step)(config, revision)


# Two sellers' products, an order of each with a revision, as stored at revision 0006.
ROWS_AT_0006 = (
    "INSERT INTO fulfillment_centers VALUES ('LAX1', 'UTC', 'us-west', 1, '14:00', '[]', "
    "'{}', '[]')",
    *(
        f"INSERT INTO sellers (id, name, email, enrollment, shrink, closed_units_shipped, "
        f"closed_units_received, head_start_suppressed, created_at) VALUES ('{seller}', "
        f"'{seller}', '{seller}@example.com', '{{}}', '0.05', 0, 0, false, '2026-03-01')"
        for seller in ("sel_a", "sel_b")
    ),
    *(
        f"INSERT INTO products (sku, seller_id, title, price_minor, currency, "
        f"head_start_excluded, offer_seq, updated_at) VALUES ('{sku}', '{seller}', 'T', 1999, "
        f"'USD', false, 0, '2026-03-01')"
        for sku, seller in (("SKU-A", "sel_a"), ("SKU-B", "sel_b"))
    ),
    *(
        f"INSERT INTO orders (id, sku, quantity, region, buyer_ref, placed_by, fc, source, "
        f"status, promise, promised_in_stock_date, promised_ship_date, first_promise, slips, "
        f"decision, placed_at) VALUES ('{order}', '{sku}', 1, 'us-west', 'b', 'shop', 'LAX1', "
        f"'head_start', 'promised', '{{}}', '2026-03-05', '2026-03-06', '{{}}', 0, '{{}}', "
        f"'2026-03-02')"
        for order, sku in (("ord_b", "SKU-B"), ("ord_a", "SKU-A"))
    ),
    "INSERT INTO order_revisions (order_id, at, reason) VALUES ('ord_a', '2026-03-02', 'x')",
    "INSERT INTO order_revisions (order_id, at, reason) VALUES ('ord_b', '2026-03-02', 'x')",
)


def test_upgrade_from_0006_gives_existing_orders_their_products_seller(empty_url: str) -> None:
    # Given a database at 0006 with orders, their revisions pointing at them, on the
    # application's engine (SQLite with foreign_keys=ON: the table rebuild must keep them)
    engine = make_engine(empty_url)
    try:
        _migrate(engine, "upgrade", "0006")
        with engine.begin() as connection:
            for statement in ROWS_AT_0006:
                connection.execute(text(statement))
        # When it is upgraded to head
        upgrade_to_head(engine)
        with engine.connect() as connection:
            upgraded = connection.execute(text("SELECT seq, id, seller_id FROM orders")).all()
            revisions = list(connection.scalars(text("SELECT order_id FROM order_revisions")))
            differences = schema_differences(connection)
        # And downgraded again
        _migrate(engine, "downgrade", "0006")
        with engine.connect() as connection:
            columns = {column["name"] for column in inspect(connection).get_columns("orders")}
            indexes = {index["name"] for index in inspect(connection).get_indexes("orders")}
            downgraded = connection.execute(text("SELECT seq, id FROM orders")).all()
    finally:
        engine.dispose()

    # Then each order got its product's seller, kept its seq and its revisions ...
    assert sorted(upgraded) == [(1, "ord_b", "sel_b"), (2, "ord_a", "sel_a")]
    assert sorted(revisions) == ["ord_a", "ord_b"]
    assert differences == []
    # ... and the downgrade took the column and its index away, keeping the orders
    assert "seller_id" not in columns
    assert "ix_orders_seller_id_seq_head_start" not in indexes
    assert sorted(downgraded) == [(1, "ord_b"), (2, "ord_a")]


NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
NOTICE = Notification(
    kind="offer_changed",
    recipient="storefront",
    subject="Offer for SKU1 changed",
    body="",
    dedupe_key="offer:SKU1:1",
    payload={"sku": "SKU1"},
)
