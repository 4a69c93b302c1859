"""Fixtures for the phone app (the token app served by the bank, docs/token-app.md).

Its modules are plain ES modules under /static/otp/app/; a test opens a bank page in the
phone browser and imports them there, so the code runs in real Chromium under the bank's
own Content-Security-Policy.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from pytest_django.live_server_helper import LiveServer

APP_STATIC = "/static/otp/app/"


@pytest.fixture
def js_page(
    request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer
) -> Generator[Page]:
    """A phone page on the bank's download page, ready to import the app's modules."""
    from tests.conftest import _watched_page

    for page in _watched_page(request, browser, live_server, "phone"):
        page.goto("/app/")
        yield page


def run_js(page: Page, body: str, arg: Any = None) -> Any:
    """Run ``body`` as an async function of ``arg`` in the page and return its result.

    ``body`` imports what it needs, e.g. ``const o = await import(APP + "oath.js");``
    (``APP`` is the modules' folder).
    """
    return page.evaluate(
        f"async (arg) => {{ const APP = {APP_STATIC!r}; {body} }}",
        arg,
    )
