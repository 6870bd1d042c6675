"""The one place that builds engines, clocks and caches; nothing heavy runs at import."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from headstart.config import Settings
from headstart.services.estimation import EstimatorCache
from headstart.store.database import make_engine, session_factories
from headstart.store.migrate import upgrade_to_head
from headstart.store.uow import UnitOfWork


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    estimators: EstimatorCache
    writer_sessions: sessionmaker[Session]
    reader_sessions: sessionmaker[Session]

    def uow(self) -> UnitOfWork:
        """A unit of work that may write (SQLite: BEGIN IMMEDIATE)."""
        return UnitOfWork(self.writer_sessions, sandbox=self.settings.sandbox)

    def reader(self) -> UnitOfWork:
        """A unit of work for reads only; never takes SQLite's write lock."""
        return UnitOfWork(self.reader_sessions, sandbox=self.settings.sandbox)


def build_runtime(settings: Settings | None = None, *, migrate: bool = True) -> Runtime:
    settings = settings or Settings()
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    if migrate:
        upgrade_to_head(engine)
    writer, reader = session_factories(engine)
    return Runtime(
        settings=settings,
        engine=engine,
        estimators=EstimatorCache(),
        writer_sessions=writer,
        reader_sessions=reader,
    )
