"""Claims on scheduled jobs: however many workers tick, one of them runs a job per interval.

A claim is two things. While a job runs, PostgreSQL holds a session advisory lock on a
connection of its own (the job runs its own transactions, so a transaction-level lock
would not cover it); SQLite needs none, because every writing transaction already holds
the database write lock. And on both engines the claim records when the job last started
(a ``settings`` row, read and written under that exclusion), so a second worker ticking
a few seconds later finds the job done for this interval and skips it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, func, insert, select, update

from headstart.store.tables import SettingRow

# A worker ticking slightly early (timer drift) must still find its own job due.
DUE_FRACTION = 0.9


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock``, the same in every process."""
    digest = hashlib.blake2b(f"headstart.job.{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _setting_key(name: str) -> str:
    return f"job:{name}"


class JobClaim:
    """``acquire()`` before running the job, ``release()`` after (both blocking)."""

    def __init__(self, engine: Engine, name: str, every: timedelta) -> None:
        self.engine = engine
        self.name = name
        self.every = every
        self._lock_connection: Connection | None = None

    @property
    def _is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def acquire(self, now: datetime) -> bool:
        """True when this worker may run the job now: nobody runs it and it is due."""
        if not self._is_postgres:
            with self.engine.begin() as connection:  # SQLite: BEGIN IMMEDIATE, exclusive
                return self._mark_started_if_due(connection, now)
        connection = self.engine.connect()
        try:
            locked = connection.scalar(select(func.pg_try_advisory_lock(advisory_key(self.name))))
            connection.commit()  # a session lock: it outlives this transaction
            if not locked:
                connection.close()
                return False
            self._lock_connection = connection
            with connection.begin():
                due = self._mark_started_if_due(connection, now)
        except BaseException:
            self._drop(connection)
            raise
        if not due:
            self.release()
        return due

    def release(self) -> None:
        connection, self._lock_connection = self._lock_connection, None
        if connection is None:
            return
        try:
            connection.scalar(select(func.pg_advisory_unlock(advisory_key(self.name))))
            connection.commit()
        except Exception:
            # The pool must never hand out a connection still holding the lock.
            connection.invalidate()
        finally:
            connection.close()

    def _drop(self, connection: Connection) -> None:
        self._lock_connection = None
        connection.invalidate()  # closing the session frees any lock it held
        connection.close()

    def _mark_started_if_due(self, connection: Connection, now: datetime) -> bool:
        key = _setting_key(self.name)
        value = connection.scalar(select(SettingRow.value).where(SettingRow.key == key))
        if value is not None:
            last = datetime.fromisoformat(str(value["last_started_at"]))
            # A start up to an interval after ``now`` is another worker's that read the
            # clock a moment after this one and took the claim first; one further ahead
            # is a clock set back, which must not hold the job off for good.
            if -self.every < now - last < self.every * DUE_FRACTION:
                return False
        row = {"last_started_at": now.isoformat()}
        if value is None:
            connection.execute(insert(SettingRow).values(key=key, value=row))
        else:
            connection.execute(update(SettingRow).where(SettingRow.key == key).values(value=row))
        return True
