"""Engines for the two supported databases, with the locking each needs (R8)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from headstart.store.offer_changes import install_offer_notices

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN IMMEDIATE
        # can be issued: writers then queue on the database lock instead of
        # failing on upgrade from a read lock (SQLAlchemy's documented recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: an order acknowledged with 2xx survives a power cut, not only a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def skip_sqlite_fsync_per_commit(engine: Engine) -> None:
    """For a scratch SQLite database (the simulator's): ``synchronous=NORMAL``.

    In WAL mode a commit then no longer waits for the disk (a few ms each, most of a
    simulated order's time); the database stays consistent after a crash and loses at
    most the last commits on a power cut. Never for a database that acknowledges
    orders to anyone (R8). No-op on PostgreSQL.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    engine.dispose()  # the pooled connections were opened with FULL


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True)
    install_offer_notices(engine)  # every process keeping offers hears what changed them
    return engine


def session_factories(engine: Engine) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """A writer factory and a reader factory (readers never take SQLite's write lock)."""
    writer = sessionmaker(engine, expire_on_commit=False)
    reader_engine = engine.execution_options(sqlite_begin="DEFERRED")
    reader = sessionmaker(reader_engine, expire_on_commit=False)
    return writer, reader
