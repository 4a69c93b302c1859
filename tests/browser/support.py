"""Browser-test support: Debian's Chromium through Playwright's sync API.

Nothing is downloaded: Playwright drives the system ``chromium`` through
``executable_path``. Pages get a watcher that records JavaScript errors, console
errors and Content-Security-Policy violations, so a test fails when a page breaks
in the browser even if its HTML looks right.

The fixtures that use this module live in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Error,
        Page,
        Playwright,
    )

CHROMIUM = os.environ.get("NETBANK_CHROMIUM", "/usr/bin/chromium")

# Chromium as root in a container: no sandbox, no GPU, and nothing that phones home
# (component updates, sync, background fetches), so a test run touches only loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "screenshots"
DOCS_IMG = REPO_ROOT / "docs" / "img"

LOCALE = "ja-JP"
TIMEZONE = "Asia/Tokyo"

# A desktop browser window, the size of a common office laptop screen.
PC = {
    "viewport": {"width": 1366, "height": 900},
    "device_scale_factor": 1,
    "is_mobile": False,
    "has_touch": False,
}

# An iPhone 13 in Safari: the screen's CSS size, 3x pixels, touch, and Safari's user agent
# (the bank tells phones apart by what the browser says, as a real one would).
IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "screen": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": IPHONE_UA,
}

VIEWPORTS: dict[str, dict[str, Any]] = {"pc": PC, "phone": PHONE}

# The phone app's journeys run on Playwright's own descriptors of two common phones
# (viewport, pixel ratio, touch, user agent). Debian's Chromium plays both, so the
# descriptor's ``default_browser_type`` (WebKit for the iPhone) is left out.
APP_DEVICES = ("iPhone 13", "Pixel 7")

_CSP_RE = re.compile(r"Content Security Policy", re.IGNORECASE)
# Chromium reports an HTTP error status of any response, the page itself included,
# as a console error. A form page answered with 400 is expected behaviour; a failed
# sub-resource (script, stylesheet, image) is not, and stays a problem.
_FAILED_RESOURCE_RE = re.compile(r"^Failed to load resource: the server responded with a status")


@dataclass
class PageWatch:
    """What went wrong inside one page, as the browser saw it."""

    label: str
    csp_violations: list[str] = field(default_factory=list)
    js_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    document_urls: set[str] = field(default_factory=set)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type not in ("error", "assert"):
            return
        text = message.text
        if _CSP_RE.search(text):
            self.csp_violations.append(text)
            return
        url = (message.location or {}).get("url", "")
        if _FAILED_RESOURCE_RE.match(text) and url in self.document_urls:
            return
        self.console_errors.append(f"{text} ({url})" if url else text)

    def on_page_error(self, error: Error) -> None:
        self.js_errors.append(f"{error.name}: {error.message}")

    def on_csp_report(self, directive: str, blocked: str) -> None:
        self.csp_violations.append(f"{directive} blocked {blocked or 'inline'}")

    def problems(self) -> list[str]:
        return (
            [f"CSP violation: {v}" for v in self.csp_violations]
            + [f"JavaScript error: {e}" for e in self.js_errors]
            + [f"console error: {c}" for c in self.console_errors]
        )

    def clear(self) -> None:
        self.csp_violations.clear()
        self.js_errors.clear()
        self.console_errors.clear()


# Reports CSP violations from inside the page as well, with the directive and the
# blocked URI, in case the console wording ever changes. Playwright injects init
# scripts through the DevTools protocol, which CSP does not govern.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__netbankCspViolation(e.violatedDirective, e.blockedURI);
});
"""

_watches: dict[int, PageWatch] = {}


def watch_of(page: Page) -> PageWatch:
    return _watches[id(page)]


def new_watched_page(context: BrowserContext, label: str) -> Page:
    watch = PageWatch(label)
    context.expose_binding(
        "__netbankCspViolation",
        lambda _source, directive, blocked: watch.on_csp_report(directive, blocked),
    )
    context.add_init_script(_CSP_LISTENER)
    page = context.new_page()
    page.on("console", watch.on_console)
    page.on("pageerror", watch.on_page_error)

    def remember_document(response: Any) -> None:
        if response.request.resource_type == "document":
            watch.document_urls.add(response.url)

    page.on("response", remember_document)
    _watches[id(page)] = watch
    return page


def forget_page(page: Page) -> None:
    _watches.pop(id(page), None)


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/screenshots/ (not committed).

    The file is ``<name>-<pc|phone>.png`` so both viewports of a test keep their picture.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    watch = _watches.get(id(page))
    path = ARTIFACTS / (f"{name}-{watch.label}.png" if watch else f"{name}.png")
    page.screenshot(path=str(path), full_page=True)
    return path


def _join_live_server_request_threads(timeout: float = 5.0) -> None:
    """Wait for the live server's per-connection threads to finish.

    The live server answers each browser connection in a daemon thread that closes
    its database connections when the socket closes. Closing Chromium closes the
    sockets; waiting here means no such thread is still running when the session's
    live server stops and SQLite's shared in-memory connection stops being shareable.
    """
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and "process_request_thread" in thread.name:
            thread.join(timeout)


class BrowserPool:
    """One Chromium for a run of consecutive browser tests.

    Playwright's sync API keeps an asyncio loop running in the test thread while it is
    started. Django refuses ORM calls from a thread with a running loop, so the pool
    sets DJANGO_ALLOW_ASYNC_UNSAFE while it is open; the test collection puts browser
    tests last and the pool closes after the last one, so no other test ever runs with
    the loop (asyncio.run() would fail) or with Django's check switched off.
    """

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._saved_env: str | None = None

    @property
    def is_open(self) -> bool:
        return self._browser is not None

    def get(self) -> Browser:
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            self._saved_env = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
            self._playwright = sync_playwright().start()
            try:
                self._browser = self._playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
            except Exception:
                self.close()
                raise
        return self._browser

    def device(self, name: str) -> dict[str, Any]:
        """Playwright's descriptor of a phone, as ``new_context`` options for Chromium."""
        self.get()
        assert self._playwright is not None
        descriptor = dict(self._playwright.devices[name])
        descriptor.pop("default_browser_type", None)
        return descriptor

    def close(self) -> None:
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        try:
            if browser is not None:
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()
            _join_live_server_request_threads()
            if self._saved_env is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = self._saved_env


pool = BrowserPool()
