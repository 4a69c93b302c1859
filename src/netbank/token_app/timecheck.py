"""How far this device's clock is from the bank's, from the HTTP ``Date`` header.

Any answer of the bank's web server carries its time (RFC 9110 section 6.6.1, one-second
resolution), so a HEAD request to the bank's URL is enough; no API is needed. The
header is not signed: a network attacker could fake it, and all they would get is a
wrong clock warning, because the offset only decides whether to warn (codes use the
device clock, see ``codes.py``).
"""

from __future__ import annotations

import email.utils
import ipaddress
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

USER_AGENT = "netbank-token-app/1"


class TimeCheckError(Exception):
    """The bank could not be reached or sent no usable Date header."""


def _check_url(bank_url: str) -> str:
    parsed = urllib.parse.urlsplit(bank_url)
    if parsed.scheme == "https" and parsed.hostname:
        return bank_url.rstrip("/") + "/"
    if parsed.scheme == "http" and parsed.hostname:
        host = parsed.hostname
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return bank_url.rstrip("/") + "/"
    raise TimeCheckError(f"not an https URL: {bank_url!r}")


def server_clock_offset(
    bank_url: str, *, timeout: float = 5.0, clock: Callable[[], float] = time.time
) -> float:
    """Bank clock minus device clock, in seconds (± about half a second)."""
    url = _check_url(bank_url)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url, method="HEAD", headers={"User-Agent": USER_AGENT}
    )
    sent = clock()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            header = response.headers.get("Date")
    except urllib.error.HTTPError as exc:  # an error page still carries the time
        header = exc.headers.get("Date") if exc.headers else None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise TimeCheckError(str(exc)) from exc
    received = clock()
    if not header:
        raise TimeCheckError("the answer has no Date header")
    try:
        server: float = email.utils.parsedate_to_datetime(str(header)).timestamp()
    except (TypeError, ValueError) as exc:
        raise TimeCheckError(f"unreadable Date header {header!r}") from exc
    # The header is truncated to the second: its true value is on average 0.5 s later.
    return server + 0.5 - (sent + received) / 2
