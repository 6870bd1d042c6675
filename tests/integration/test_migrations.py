"""The single Alembic revision creates exactly the schema that store/tables.py describes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from headstart.store.migrate import upgrade_to_head
from headstart.store.tables import metadata
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
            # SQLite reflects column types loosely (a Double comes back as FLOAT):
            # types are compared on PostgreSQL, tables, columns and indexes on both.
            compare_type = engine.dialect.name == "postgresql"
            context = MigrationContext.configure(connection, opts={"compare_type": compare_type})
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()

    assert differences == []
