"""The single Alembic revision creates exactly the schema that store/tables.py describes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from headstart.domain.notifications import Notification
from headstart.services.outbox import enqueue
from headstart.store.migrate import upgrade_to_head
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


NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
NOTICE = Notification(
    kind="offer_changed",
    recipient="storefront",
    subject="Offer for SKU1 changed",
    body="",
    dedupe_key="offer:SKU1:1",
    payload={"sku": "SKU1"},
)
