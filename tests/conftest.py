"""Configuration shared by every test tier (tests/unit, tests/integration, tests/e2e).

Keep each concern in its own section below, under a header like the one that
follows; fixtures belonging to one tier go in that tier's own conftest.py.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url

from tests.nats_server import LocalNatsServer, has_jetstream, nats_test_url
from tests.pg import is_postgres_available, postgres_admin_url

# ---------------------------------------------------------------------------
# PostgreSQL and NATS availability
#
# Tests marked `postgres` need a real PostgreSQL server, tests marked `nats` a
# real NATS server with JetStream. On a developer's machine they are skipped
# when none answers (for NATS, a `nats-server` on PATH is started for the
# session first), with a banner in the summary that nobody can miss; with
# CI=true they fail instead, so a green CI run always means they really ran.
# ---------------------------------------------------------------------------

_UNREACHABLE = pytest.StashKey[dict[str, str]]()  # marker -> reason, only when unreachable
_AFFECTED = pytest.StashKey[dict[str, int]]()
_LOCAL_NATS = pytest.StashKey[LocalNatsServer]()
_TITLES = {"postgres": "PostgreSQL", "nats": "NATS"}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _shown_url() -> str:
    return make_url(postgres_admin_url()).render_as_string(hide_password=True)


def _postgres_unreachable(config: pytest.Config) -> str | None:
    if is_postgres_available():
        return None
    return (
        f"PostgreSQL not reachable at {_shown_url()} "
        "(start it, or point HEADSTART_TEST_PG_URL at one)"
    )


def _nats_unreachable(config: pytest.Config) -> str | None:
    url = nats_test_url()
    if has_jetstream(url):
        return None
    local = LocalNatsServer()
    if local.start():
        config.stash[_LOCAL_NATS] = local
        os.environ["HEADSTART_TEST_NATS_URL"] = local.url  # read by the tests and workers
        return None
    return (
        f"NATS with JetStream not reachable at {url} and no nats-server on PATH to start "
        "(start one with -js, or point HEADSTART_TEST_NATS_URL at one)"
    )


_PROBES = {"postgres": _postgres_unreachable, "nats": _nats_unreachable}


# ---------------------------------------------------------------------------
# Long variants
#
# Tests marked `long` are the long versions of the reliability suite: twenty
# server kills per engine instead of five, hundreds of model-based runs instead
# of dozens, schemathesis's long hunt on both engines. `make test` leaves them
# out so it stays within its budget; `make test-long` (pytest --long) runs them
# and nothing else; CI runs both.
# ---------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--long",
        action="store_true",
        help="run only the long variants (tests marked long); without it they are left out",
    )


def _select_tier(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the long variants under --long and everything else without it."""
    want_long = bool(config.getoption("--long"))
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        is_long = item.get_closest_marker("long") is not None
        (kept if is_long == want_long else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.hookimpl(trylast=True)  # after -k/-m deselection, so the count is of what runs
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _select_tier(config, items)
    config.stash[_UNREACHABLE] = {}
    config.stash[_AFFECTED] = {}
    for marker, probe in _PROBES.items():
        marked = [item for item in items if item.get_closest_marker(marker) is not None]
        if not marked:
            continue
        reason = probe(config)
        if reason is None:
            continue
        config.stash[_UNREACHABLE][marker] = reason
        config.stash[_AFFECTED][marker] = len(marked)
        if not _in_ci():
            for item in marked:
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if not _in_ci():
        return
    for marker, reason in item.config.stash.get(_UNREACHABLE, {}).items():
        if item.get_closest_marker(marker) is not None:
            pytest.fail(f"{reason}; CI=true, so this is a failure, not a skip", pytrace=False)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    for marker, reason in config.stash.get(_UNREACHABLE, {}).items():
        count = config.stash[_AFFECTED][marker]
        verb = "FAILED" if _in_ci() else "SKIPPED"
        title = f"{_TITLES[marker]} tests did not run"
        terminalreporter.write_sep("!", title, red=True, bold=True)
        terminalreporter.write_line(
            f"{verb} {count} {_TITLES[marker]} tests: {reason}", red=True, bold=True
        )
        terminalreporter.write_sep("!", title, red=True, bold=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    local = session.config.stash.get(_LOCAL_NATS, None)
    if local is not None:
        local.stop()
    if _in_ci() and session.config.stash.get(_UNREACHABLE, {}):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
