"""Shared fixtures. Real database with per-test rollback; time from the injectable clock."""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from netbank import clock
from tests.browser import support as browser_support

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from pytest_django.live_server_helper import LiveServer

FIXED_NOW = datetime(2026, 11, 27, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
def frozen_clock() -> Iterator[datetime]:
    """Pin the server clock; move it with ``clock.advance(seconds)``."""
    clock.set_now(FIXED_NOW)
    try:
        yield FIXED_NOW
    finally:
        clock.set_now(None)


# --- Test selection: browser and PostgreSQL-only tests ------------------------------


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


def _database_is_postgresql() -> bool:
    from django.conf import settings

    engine = str(settings.DATABASES["default"]["ENGINE"])
    return engine.endswith((".postgresql", ".postgis"))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip what this machine cannot run, unless CI said it must run.

    Runs after pytest-django has ordered the tests (plain, then transactional); browser
    tests then move to the very end, so Playwright's event loop never overlaps another
    test (see ``BrowserPool``).
    """
    is_pg = _database_is_postgresql()
    if _env_flag("NETBANK_REQUIRE_POSTGRES") and not is_pg:
        raise pytest.UsageError(
            "NETBANK_REQUIRE_POSTGRES=1 but the test database is not PostgreSQL; "
            "set DATABASE_URL=postgres://... (configuration error, not a test failure)"
        )
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()) and not item.get_closest_marker(
            "browser"
        ):
            item.add_marker(pytest.mark.browser)

    browser_items = [i for i in items if i.get_closest_marker("browser")]
    if browser_items and not os.path.exists(browser_support.CHROMIUM):
        if _env_flag("NETBANK_REQUIRE_BROWSER"):
            raise pytest.UsageError(
                f"NETBANK_REQUIRE_BROWSER=1 but {browser_support.CHROMIUM} is missing; "
                "install Debian's chromium (apt-get install chromium)"
            )
        skip = pytest.mark.skip(reason=f"browser test: {browser_support.CHROMIUM} not installed")
        for item in browser_items:
            item.add_marker(skip)
    if not is_pg:
        skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
        for item in items:
            if item.get_closest_marker("postgres_only"):
                item.add_marker(skip_pg)
    items.sort(key=lambda i: i.get_closest_marker("browser") is not None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    # Page fixtures read this to keep a screenshot of a failing test.
    setattr(item, f"_netbank_report_{report.when}", report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    try:
        return (yield)
    finally:
        # Close Chromium (and Playwright's event loop) after the last browser test in a row.
        if browser_support.pool.is_open and (
            nextitem is None or nextitem.get_closest_marker("browser") is None
        ):
            browser_support.pool.close()


# --- Browser fixtures (Debian's Chromium, Playwright sync API) ----------------------


@pytest.fixture
def browser() -> Browser:
    """The shared headless Chromium (launched once for the run of browser tests)."""
    return browser_support.pool.get()


def _watched_page(
    request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer, label: str
) -> Generator[Page]:
    context = browser.new_context(
        base_url=live_server.url,
        locale=browser_support.LOCALE,
        timezone_id=browser_support.TIMEZONE,
        **browser_support.VIEWPORTS[label],
    )
    context.set_default_timeout(10_000)
    page = browser_support.new_watched_page(context, label)
    try:
        yield page
        call_report = getattr(request.node, "_netbank_report_call", None)
        if call_report is not None and call_report.failed and not page.is_closed():
            browser_support.shot(page, f"FAILED-{request.node.name}")
        problems = browser_support.watch_of(page).problems()
    finally:
        context.close()
        browser_support.forget_page(page)
    if problems:
        pytest.fail(
            f"the page reported {len(problems)} problem(s) in the browser:\n  "
            + "\n  ".join(problems),
            pytrace=False,
        )


@pytest.fixture
def pc_page(
    request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer
) -> Generator[Page]:
    """A fresh desktop browser window (1366x900, ja-JP) on the live server."""
    yield from _watched_page(request, browser, live_server, "pc")


@pytest.fixture
def phone_page(
    request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer
) -> Generator[Page]:
    """A fresh iPhone-13-like Safari page (390x844 @3x, touch, ja-JP) on the live server."""
    yield from _watched_page(request, browser, live_server, "phone")


@pytest.fixture(params=["pc", "phone"])
def page(request: pytest.FixtureRequest) -> Page:
    """The test runs twice: on the PC page and on the phone page."""
    value: Page = request.getfixturevalue(f"{request.param}_page")
    return value
