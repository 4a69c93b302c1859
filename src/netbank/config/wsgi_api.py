"""The WSGI application with a lean middleware stack for the JSON API.

A drop-in replacement for ``netbank.config.wsgi:application`` that serves the whole
site: requests under ``/api/`` skip the middleware that only serves browser pages
(``WEB_ONLY_MIDDLEWARE``), everything else goes through the full ``settings.MIDDLEWARE``. Same settings, URLconf, views and services;
only the middleware chain in front of the API differs.

Why: the API's callers (the token app, Directログイン, the bank's other channels) send
no cookies and read no HTML. Sessions, the customer-session checks, CSRF, language
negotiation, operator authentication, new-device login notices, the OTP-mandatory
confinement and static files do nothing for them but still cost every request
(docs/performance.md measures it). The
API views are built for that: no view under ``/api/`` reads ``request.session``,
``request.customer`` or ``request.user``, and none sets a cookie
(tests/config/test_wsgi_api.py checks the answers are the same either way).

What stays (today): Django's SecurityMiddleware (HSTS, nosniff, referrer policy, the
HTTPS redirect in production), the bank's security headers, CommonMiddleware
(disallowed user agents, Content-Length) and X-Frame-Options.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application

from netbank.ops import health
from netbank.ops.checks import refuse_to_start_if_misconfigured
from netbank.web.client_address import behind_proxies, from_environment

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netbank.config.settings")

__all__ = ["SplitApplication", "api_middleware", "application", "behind_proxies", "build"]

API_PREFIX = "/api/"
# Middleware that serves only pages for browsers, with why the API does without it.
# Everything else in settings.MIDDLEWARE (and anything added there later) runs for
# the API too: a new middleware is left out only by naming it here.
WEB_ONLY_MIDDLEWARE = {
    "whitenoise.middleware.WhiteNoiseMiddleware": "static files are never under /api/",
    "django.contrib.sessions.middleware.SessionMiddleware": "API callers have no session",
    "django.middleware.locale.LocaleMiddleware": "API errors carry Japanese and English",
    "django.middleware.csrf.CsrfViewMiddleware": "no cookies, so nothing to forge",
    "django.contrib.auth.middleware.AuthenticationMiddleware": "operators use the console",
    "netbank.customers.middleware.CustomerSessionMiddleware": "no customer session",
    "netbank.customers.login_devices.NewDeviceLoginMiddleware": "logins happen on pages",
    "netbank.otp.tokens.confinement.OtpSetupOnlyMiddleware": "confines sessions; the API has none",
}


def api_middleware() -> list[str]:
    """``settings.MIDDLEWARE`` without the web-only entries, in the same order."""
    from django.conf import settings

    return [path for path in settings.MIDDLEWARE if path not in WEB_ONLY_MIDDLEWARE]


StartResponse = Callable[..., Any]


def _api_handler() -> Any:
    """A WSGIHandler whose middleware chain is ``api_middleware()``.

    Django builds a handler's chain from ``settings.MIDDLEWARE`` when the handler is
    created; the setting holds the API's list only while this one handler is built
    (at start-up, before any request), then goes back to the full list.
    """
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    full = settings.MIDDLEWARE
    settings.MIDDLEWARE = api_middleware()
    try:
        return WSGIHandler()
    finally:
        settings.MIDDLEWARE = full


class SplitApplication:
    """Send ``/api/…`` to the lean handler and every other path to the full one."""

    def __init__(self, *, web: Any, api: Any) -> None:
        self.web = web
        self.api = api

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        handler = self.api if path.startswith(API_PREFIX) else self.web
        result: Iterable[bytes] = handler(environ, start_response)
        return result


def build() -> Any:
    web = get_wsgi_application()
    refuse_to_start_if_misconfigured()
    return health.wrap(from_environment(SplitApplication(web=web, api=_api_handler())))


application = build()
