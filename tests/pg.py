"""PostgreSQL for the tests: where it is, whether it is up, throwaway databases.

HEADSTART_TEST_PG_URL names a server and a database the tests may connect to in
order to create others (default: the local trust-auth server's ``test`` database).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_SECONDS = 2


def postgres_admin_url() -> str:
    return os.environ.get("HEADSTART_TEST_PG_URL") or DEFAULT_ADMIN_URL


def _connect_kwargs(url: URL) -> dict[str, Any]:
    """psycopg.connect keyword arguments for a SQLAlchemy URL."""
    kwargs: dict[str, Any] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
    }
    kwargs.update(url.query)
    return {key: value for key, value in kwargs.items() if value is not None}


def is_postgres_available() -> bool:
    try:
        with psycopg.connect(**_connect_kwargs(make_url(postgres_admin_url()))) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


@contextmanager
def temporary_database() -> Iterator[str]:
    """Create an empty database, yield its SQLAlchemy URL, drop it afterwards."""
    admin_url = make_url(postgres_admin_url())
    name = f"headstart_test_{uuid.uuid4().hex[:16]}"
    admin_kwargs = _connect_kwargs(admin_url)
    with psycopg.connect(**admin_kwargs, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**admin_kwargs, autocommit=True) as conn:
            # FORCE ends sessions a test left open (PostgreSQL 13+).
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
