"""The browser harness itself: a broken page must be noticed, a healthy one must not.

The probe pages are answered by Playwright's router inside the browser, so nothing
here reaches (or changes) the bank; they carry the bank's own CSP header, so the
test shows that the policy the bank sends really blocks inline script in Chromium.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Route, expect

from netbank.web.middleware import CONTENT_SECURITY_POLICY
from tests.browser.support import PageWatch, watch_of

pytestmark = pytest.mark.browser

PROBE_HTML = """<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>probe</title></head>
<body><p id="probe">probe</p>
<script>document.getElementById("probe").textContent = "inline script ran";</script>
<script src="/__probe.js"></script>
</body></html>"""


def _fulfil(body: str, content_type: str) -> Callable[[Route], None]:
    def handler(route: Route) -> None:
        route.fulfill(
            status=200,
            headers={
                "Content-Type": content_type,
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            },
            body=body,
        )

    return handler


def _wait_for(page: Page, done: Callable[[], bool]) -> None:
    # Browser events reach Python while Playwright waits; poll briefly, never long.
    for _ in range(50):
        if done():
            return
        page.wait_for_timeout(100)


def test_watch_records_csp_violation_and_script_error(pc_page: Page) -> None:
    pc_page.route("**/__probe", _fulfil(PROBE_HTML, "text/html; charset=utf-8"))
    pc_page.route("**/__probe.js", _fulfil('throw new Error("probe failure");', "text/javascript"))
    watch: PageWatch = watch_of(pc_page)

    pc_page.goto("/__probe")
    _wait_for(pc_page, lambda: bool(watch.csp_violations) and bool(watch.js_errors))

    # The bank's CSP blocked the inline script: its effect never happened.
    expect(pc_page.locator("#probe")).to_have_text("probe")
    assert any("script-src" in v for v in watch.csp_violations), watch.csp_violations
    assert any("probe failure" in e for e in watch.js_errors), watch.js_errors
    assert len(watch.problems()) >= 2
    watch.clear()  # recorded on purpose; the fixture would otherwise fail this test


def test_watch_records_a_missing_subresource_but_not_an_error_page(pc_page: Page) -> None:
    watch = watch_of(pc_page)

    # A form page answered with 400 is behaviour, not breakage ...
    pc_page.goto("/")
    pc_page.locator("main form button[type=submit]").click()
    expect(pc_page.locator("main [role=alert]")).to_be_visible()
    assert watch.problems() == []

    # ... but a stylesheet or script the page needs and cannot load is breakage.
    pc_page.route(
        "**/__probe-missing",
        _fulfil(
            '<!DOCTYPE html><html><head><link rel="stylesheet" href="/static/netbank/nope.css">'
            "</head><body></body></html>",
            "text/html; charset=utf-8",
        ),
    )
    pc_page.goto("/__probe-missing")
    _wait_for(pc_page, lambda: bool(watch.console_errors))
    assert any("nope.css" in c or "404" in c for c in watch.console_errors), watch.console_errors
    watch.clear()
