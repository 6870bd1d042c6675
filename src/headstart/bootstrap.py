"""The one place that builds engines, clocks and caches; nothing heavy runs at import."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from headstart.config import Settings
from headstart.services.auth_failures import AuthFailureLimiter
from headstart.services.estimation import EstimatorCache
from headstart.store.database import make_engine, session_factories
from headstart.store.key_secret import ensure_key_secret
from headstart.store.migrate import upgrade_to_head
from headstart.store.uow import UnitOfWork

log = logging.getLogger("headstart")


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    estimators: EstimatorCache
    writer_sessions: sessionmaker[Session]
    reader_sessions: sessionmaker[Session]
    auth_failures: AuthFailureLimiter
    # Resolved on first use: a runtime may be built before its database can be opened
    # (a worker started during an outage retries; it must not crash at start).
    resolved_key_secret: bytes | None = None

    @property
    def key_secret(self) -> bytes:
        """HEADSTART_KEY_SECRET, else this database's own (see ``store.key_secret``)."""
        if self.resolved_key_secret is None:
            with self.engine.begin() as connection:
                self.resolved_key_secret = ensure_key_secret(connection, self.settings.key_secret)
        return self.resolved_key_secret

    def uow(self) -> UnitOfWork:
        """A unit of work that may write (SQLite: BEGIN IMMEDIATE)."""
        return UnitOfWork(
            self.writer_sessions, sandbox=self.settings.sandbox, key_secret=self.key_secret
        )

    def reader(self) -> UnitOfWork:
        """A unit of work for reads only; never takes SQLite's write lock."""
        return UnitOfWork(
            self.reader_sessions, sandbox=self.settings.sandbox, key_secret=self.key_secret
        )


def build_runtime(settings: Settings | None = None, *, migrate: bool = True) -> Runtime:
    settings = settings or Settings()
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    if migrate:
        upgrade_to_head(engine, key_secret=settings.key_secret)
    if not settings.key_secret and not settings.sandbox:
        log.warning(
            "HEADSTART_KEY_SECRET is not set: API keys are hashed with a secret kept in the "
            "database itself; set it in production"
        )
    writer, reader = session_factories(engine)
    runtime = Runtime(
        settings=settings,
        engine=engine,
        estimators=EstimatorCache(),
        writer_sessions=writer,
        reader_sessions=reader,
        auth_failures=AuthFailureLimiter(
            limit=settings.auth_failure_limit, window_seconds=settings.auth_failure_window_seconds
        ),
    )
    if migrate:
        _ = runtime.key_secret  # the database is there: settle the secret now, not mid-request
    return runtime
