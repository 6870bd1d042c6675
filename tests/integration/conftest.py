"""The integration tier: the real HTTP app over real SQLite and real PostgreSQL.

Every test that asks for ``market`` (or ``client``) runs twice, once per
engine. The PostgreSQL run carries the ``postgres`` marker, so without a
server it is skipped loudly (and fails under CI=true, see tests/conftest.py).

Each engine gets one runtime and one app per session (building FastAPI's
routes, migrating and warming SQLAlchemy's statement cache cost more than most
tests); every test starts from an emptied database and a fresh estimator
cache, the only state the runtime keeps in memory.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from headstart.api.app import create_app
from headstart.bootstrap import Runtime, build_runtime
from headstart.config import Settings
from headstart.services.estimation import EstimatorCache
from tests.integration.databases import empty_database
from tests.pg import temporary_database
from tests.support import OPERATOR_KEY, T0, Market

ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]

AppFactory = Callable[..., TestClient]


@dataclass
class Server:
    url: str
    runtime: Runtime
    client: TestClient


def settings(url: str, **overrides: Any) -> Settings:
    # E-mail without SMTP goes to a Maildir: keep it out of the working tree.
    mail_dir = str(Path(tempfile.gettempdir()) / "headstart-test-mail")
    return Settings(
        **{
            "database_url": url,
            "operator_key": OPERATOR_KEY,
            "sandbox": True,
            "mail_dir": mail_dir,
            # Fixed, so every app built over a test's database accepts its keys.
            "key_secret": "test-key-secret",
            # The outbox tests deliver webhooks to a receiver on 127.0.0.1.
            "webhook_allow_private": True,
            # The access matrix sends hundreds of bad keys; the limit has its own tests.
            "auth_failure_limit": 1_000_000,
            **overrides,
        }
    )


def serve(url: str) -> Iterator[Server]:
    runtime = build_runtime(settings(url))
    try:
        with TestClient(create_app(runtime)) as client:
            yield Server(url, runtime, client)
    finally:
        runtime.engine.dispose()  # closes the pool, so PostgreSQL can drop the database


@pytest.fixture(scope="session")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve(f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/hs.db")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    with temporary_database() as url:
        yield from serve(url)


@pytest.fixture(params=ENGINES)
def server(request: pytest.FixtureRequest) -> Server:
    """The session's server of each engine in turn, emptied for this test."""
    server: Server = request.getfixturevalue(f"{request.param}_server")
    empty_database(server.runtime.engine)
    server.runtime.estimators = EstimatorCache()  # a model fitted on another test's history
    server.runtime.auth_failures.clear()  # another test's 401s must not throttle this one
    return server


@pytest.fixture
def make_client(server: Server) -> Iterator[AppFactory]:
    """Another app over this test's database, with some settings overridden."""
    with ExitStack() as stack:

        def build(**overrides: Any) -> TestClient:
            runtime = build_runtime(settings(server.url, **overrides))
            stack.callback(runtime.engine.dispose)
            return stack.enter_context(TestClient(create_app(runtime)))

        yield build


@pytest.fixture
def client(server: Server) -> TestClient:
    return server.client


@pytest.fixture
def market(client: TestClient) -> Market:
    """A marketplace at T0 with one FC, LAX1 (America/Los_Angeles, us-west), and a storefront."""
    market = Market(client)
    market.set_clock(T0)
    market.add_fc("LAX1", "America/Los_Angeles", region="us-west")
    market.add_storefront()
    return market
