"""Configuration shared by every test tier (tests/unit, tests/integration, tests/e2e).

Keep each concern in its own section below, under a header like the one that
follows; fixtures belonging to one tier go in that tier's own conftest.py.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url

from tests.pg import is_postgres_available, postgres_admin_url

# ---------------------------------------------------------------------------
# PostgreSQL availability
#
# Tests marked `postgres` need a real server. On a developer's machine they
# are skipped when none answers, with a banner in the summary that nobody can
# miss; with CI=true they fail instead, so a green CI run always means the
# PostgreSQL tests really ran.
# ---------------------------------------------------------------------------

_PG_UNREACHABLE = pytest.StashKey[str]()  # set only when marked tests cannot reach it
_PG_AFFECTED = pytest.StashKey[int]()


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _shown_url() -> str:
    return make_url(postgres_admin_url()).render_as_string(hide_password=True)


@pytest.hookimpl(trylast=True)  # after -k/-m deselection, so the count is of what runs
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    marked = [item for item in items if item.get_closest_marker("postgres") is not None]
    if not marked or is_postgres_available():
        return
    reason = (
        f"PostgreSQL not reachable at {_shown_url()} "
        "(start it, or point HEADSTART_TEST_PG_URL at one)"
    )
    config.stash[_PG_UNREACHABLE] = reason
    config.stash[_PG_AFFECTED] = len(marked)
    if not _in_ci():
        for item in marked:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = item.config.stash.get(_PG_UNREACHABLE, None)
    if reason is not None and _in_ci() and item.get_closest_marker("postgres") is not None:
        pytest.fail(f"{reason}; CI=true, so this is a failure, not a skip", pytrace=False)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    reason = config.stash.get(_PG_UNREACHABLE, None)
    if reason is None:
        return
    count = config.stash[_PG_AFFECTED]
    verb = "FAILED" if _in_ci() else "SKIPPED"
    line = f"{verb} {count} PostgreSQL tests: {reason}"
    title = "PostgreSQL tests did not run"
    terminalreporter.write_sep("!", title, red=True, bold=True)
    terminalreporter.write_line(line, red=True, bold=True)
    terminalreporter.write_sep("!", title, red=True, bold=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _in_ci() and session.config.stash.get(_PG_UNREACHABLE, None) is not None:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
