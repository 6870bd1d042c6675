"""Hear, in this process, every committed change to the offers (see ``offer_changes``).

``catch_up()`` returns only once every change committed before it was called has been
heard (the caller may then trust what it kept), or False when that cannot be known (the
caller must then read the database):

- PostgreSQL: one connection per process LISTENs. ``catch_up`` runs one round trip
  on it: PostgreSQL sends a listener the notifications committed before a query ahead
  of that query's answer, so when the answer is back, they have been heard. Calls that
  arrive together share one round trip. While the connection is down nothing may be
  trusted: everything is forgotten on losing it and again once listening anew.
- SQLite: ``PRAGMA data_version`` on a connection of its own changes whenever any
  other connection, in any process, committed to the file: then everything changed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import psycopg
from psycopg import pq
from sqlalchemy import Engine

from headstart.store.offer_changes import CHANNEL, parse_payload

log = logging.getLogger("headstart.offers")

SkusChanged = Callable[[Iterable[str]], None]
EverythingChanged = Callable[[], None]

APPLICATION_NAME = "headstart-offer-changes"  # the listener, in pg_stat_activity
CATCH_UP_SECONDS = 2.0  # beyond it an offer is read from the database
IDLE_PING_SECONDS = 5.0  # a silent connection is checked this often
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)


class OfferChangeFeed(Protocol):
    def start(self) -> None: ...

    def catch_up(self) -> bool: ...

    def close(self) -> None: ...


def watch_offer_changes(
    engine: Engine, on_skus: SkusChanged, on_everything: EverythingChanged
) -> OfferChangeFeed | None:
    """The feed for ``engine``'s database; None where changes cannot be heard (in memory)."""
    if engine.dialect.name == "postgresql":
        cargs, cparams = engine.dialect.create_connect_args(engine.url)

        def connect() -> psycopg.Connection[Any]:
            return psycopg.connect(
                *cargs, **{**cparams, "application_name": APPLICATION_NAME}, autocommit=True
            )

        return PostgresOfferChanges(connect, on_skus, on_everything)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return SqliteOfferChanges(database, on_everything)
    return None


class PostgresOfferChanges:
    """A LISTEN connection shared by the process's requests.

    A request catches up by a round trip on it; whoever starts one answers every
    request that arrived before it started, so concurrent requests share it. Between
    requests a thread reads the notifications that arrive and checks the connection,
    and reconnects when it is lost.
    """

    def __init__(
        self,
        connect: Callable[[], psycopg.Connection[Any]],
        on_skus: SkusChanged,
        on_everything: EverythingChanged,
    ) -> None:
        self._connect = connect
        self._on_skus = on_skus
        self._on_everything = on_everything
        self._state = threading.Condition()
        self._connection: psycopg.Connection[Any] | None = None  # None: not listening
        self._busy = False  # a round trip is in flight
        self._requested = 0  # catch-ups asked for
        self._answered = 0  # catch-ups a round trip started after has answered
        self._closed = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)

    def start(self) -> None:
        """Listen (from the process that serves: a thread does not survive a fork)."""
        with self._state:
            self._start()

    def _start(self) -> None:
        if self._thread is None and not self._closed:
            self._thread = threading.Thread(
                target=self._run, name="headstart-offer-changes", daemon=True
            )
            self._thread.start()

    def catch_up(self) -> bool:
        deadline = time.monotonic() + CATCH_UP_SECONDS
        with self._state:
            if self._closed:
                return False
            self._start()
            self._requested += 1
            ticket = self._requested
            while self._answered < ticket:
                if self._connection is None:
                    return False
                if not self._busy:
                    self._round_trip()
                elif not self._state.wait(deadline - time.monotonic()):
                    return False
            return True

    def close(self) -> None:
        with self._state:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b".")
        if thread is not None:
            thread.join(timeout=5)
        os.close(self._wake_read)
        os.close(self._wake_write)

    def _round_trip(self) -> None:
        """With ``_state`` held: one query on the connection, the lock released meanwhile.
        PostgreSQL sends a listener the notifications committed before a query ahead of
        its answer: once it is back, every catch-up asked for before it began is met."""
        connection = self._connection
        assert connection is not None and not self._busy
        self._busy = True
        target = self._requested
        self._state.release()
        try:
            alive = self._exchange(connection)
        finally:
            self._state.acquire()
            self._busy = False
        if alive:
            self._answered = max(self._answered, target)
        elif self._connection is connection:
            self._connection = None  # the thread reconnects
            with contextlib.suppress(OSError):
                os.write(self._wake_write, b".")
        self._state.notify_all()

    def _exchange(self, connection: psycopg.Connection[Any]) -> bool:
        # libpq's own call, and an empty query (nothing to parse or plan): cheap enough to
        # run before every kept answer. Any query's answer follows the notifications.
        pgconn = connection.pgconn
        try:
            result = pgconn.exec_(b"")
            alive = result.status == pq.ExecStatus.EMPTY_QUERY
            while (notice := pgconn.notifies()) is not None:
                self._notified(notice.extra.decode())
        except (psycopg.Error, OSError, UnicodeDecodeError):
            return False
        return alive and pgconn.status == pq.ConnStatus.OK

    def _notified(self, payload: str) -> None:
        skus = parse_payload(payload)
        if skus is None:
            self._on_everything()
        else:
            self._on_skus(skus)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                connection = self._connect()
                connection.execute(f"LISTEN {CHANNEL}")
            except (psycopg.Error, OSError) as error:
                if failures == 0:
                    log.warning("offer change feed lost, offers read from the database: %s", error)
                failures += 1
                self._stop.wait(RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1])
                continue
            if failures:
                log.warning("offer change feed listening again")
            failures = 0
            try:
                self._on_everything()  # whatever changed while nobody listened
                with self._state:
                    self._connection = connection
                    self._state.notify_all()
                self._watch(connection)
            finally:
                with self._state:
                    if self._connection is connection:
                        self._connection = None
                    self._state.wait_for(lambda: not self._busy)
                    self._state.notify_all()
                self._on_everything()  # nothing heard from now on
                connection.close()
            if not self._stop.is_set():
                failures = 1
                log.warning("offer change feed lost, offers read from the database")

    def _watch(self, connection: psycopg.Connection[Any]) -> None:
        """Between requests: read what arrives, check a silent connection now and then."""
        socket = connection.fileno()
        while not self._stop.is_set():
            select.select([socket, self._wake_read], [], [], IDLE_PING_SECONDS)
            with contextlib.suppress(BlockingIOError):
                while os.read(self._wake_read, 4096):
                    pass
            with self._state:
                # A request's round trip in flight reads what arrived: wait for it.
                self._state.wait_for(lambda: not self._busy)
                if self._connection is not connection:
                    return
                self._round_trip()
                if self._connection is not connection:
                    return


class SqliteOfferChanges:
    def __init__(self, path: str, on_everything: EverythingChanged) -> None:
        self._path = path
        self._on_everything = on_everything
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._version: int | None = None

    def start(self) -> None:
        pass  # nothing runs in the background

    def catch_up(self) -> bool:
        with self._lock:
            try:
                if self._connection is None:
                    self._connection = sqlite3.connect(
                        self._path, check_same_thread=False, isolation_level=None
                    )
                row = self._connection.execute("PRAGMA data_version").fetchone()
            except sqlite3.Error:
                self._forget()
                return False
            if row[0] != self._version:
                self._version = row[0]
                self._on_everything()
            return True

    def close(self) -> None:
        with self._lock:
            self._forget()

    def _forget(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None
        self._version = None
        self._on_everything()
