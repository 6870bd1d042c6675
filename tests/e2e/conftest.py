"""The e2e tier: the real ``headstart serve`` in a subprocess, on SQLite and on PostgreSQL.

Every test here talks HTTP to a server started exactly as an operator starts it
(``python -m headstart.cli serve``), configured only through its environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import ServerProcess
from tests.pg import temporary_database

ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def _database(engine: str, tmp_path: Path) -> AbstractContextManager[str]:
    if engine == "postgres":
        return temporary_database()
    return nullcontext(f"sqlite:///{tmp_path / 'headstart.db'}")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The database engine behind the server; every e2e test runs on both by default."""
    return str(request.param)


@pytest.fixture
def server_process(engine: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A running server on a fresh, empty database of the parametrized engine."""
    with _database(engine, tmp_path) as url:
        server = ServerProcess(url, tmp_path / "server.log")
        server.start()
        try:
            yield server
        finally:
            server.stop()  # waits for the process: nothing outlives the test


@pytest.fixture
def server(server_process: ServerProcess) -> str:
    """The base URL of a running server."""
    return server_process.base_url


@pytest.fixture
def client(server_process: ServerProcess) -> Iterator[httpx.Client]:
    with server_process.client() as http:
        yield http
