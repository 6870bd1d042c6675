"""Driving the pages in Debian's Chromium with Playwright (issue 5).

Playwright cannot download a browser here, so it runs ``/usr/bin/chromium``
(``make test`` installs the Debian package when it is missing). Without it the
browser tests are skipped on a developer's machine and fail under CI=true, like
the PostgreSQL tests (tests/conftest.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.server import ServerProcess

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("HEADSTART_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TIMEOUT_MS = 10_000


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"{reason}; CI=true, so this is a failure, not a skip", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str:
    """The browser to drive, or skip (fail under CI) when it is missing."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(
            f"Chromium not found at {CHROMIUM} (apt-get install chromium; `make test` "
            "installs it, or point HEADSTART_TEST_CHROMIUM at one)"
        )
    return str(CHROMIUM)


@contextmanager
def chromium() -> Iterator[Browser]:
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extra installs it
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
        raise
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def page_in(browser: Browser, base_url: str, **options: Any) -> Iterator[Page]:
    """A fresh browser context (its own cookies), with one page on the server."""
    context = browser.new_context(base_url=base_url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@contextmanager
def server_and_browser(tmp_path: Path) -> Iterator[tuple[ServerProcess, Browser]]:
    """A real ``headstart serve`` on a fresh SQLite database, and Chromium, started together
    (the server takes seconds to import and migrate); both stopped at the end."""
    chromium_path()  # skip (or fail under CI) before starting anything
    server = ServerProcess(f"sqlite:///{tmp_path / 'headstart.db'}", tmp_path / "server.log")
    with ThreadPoolExecutor(max_workers=1) as pool:
        starting = pool.submit(server.start)
        try:
            with chromium() as browser:
                starting.result()
                yield server, browser
        finally:
            starting.exception()  # wait for the start, whatever happened
            server.stop()


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot under test-artifacts/screenshots/ (kept by CI as an artifact)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Page, key: str, *, next_path: str = "") -> None:
    """Sign in through the form, as a person would; the browser's zone is preselected."""
    page.goto(f"/sign-in?next={next_path}" if next_path else "/sign-in")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^(?!.*/sign-in).*$"))


def key_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")
