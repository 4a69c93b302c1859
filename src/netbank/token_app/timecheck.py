"""How far this device's clock is from the bank's, from the HTTP ``Date`` header.

Any answer of the bank's web server carries its time (RFC 9110 section 6.6.1, one-second
resolution), so a HEAD request to the bank's URL is enough; no API is needed. The
header is not signed: a network attacker could fake it, and all they would get is a
wrong clock warning, because the offset only decides whether to warn (codes use the
device clock, see ``codes.py``).

Between two measurements the CLI notices a change of the device clock without the bank:
each measurement records the boot id and the device clock minus the time since boot,
which stays the same until someone sets the clock (``clock_moved``).
"""

from __future__ import annotations

import email.utils
import ipaddress
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class BootClock:
    """The device's clock since boot, which the date and time settings do not move."""

    boot_id: str
    seconds_since_boot: float


def boot_clock() -> BootClock | None:
    """This boot's id and the time since boot (suspend included); None where the system
    offers neither (then a change of the device clock is only seen by asking the bank)."""
    try:
        boot_id = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        since_boot = time.clock_gettime(time.CLOCK_BOOTTIME)
    except (OSError, AttributeError, ValueError):
        return None
    return BootClock(boot_id, since_boot) if boot_id else None


def clock_moved(*, boot_id: str, wall_at_boot: float, now: float, boot: BootClock | None) -> float:
    """Seconds the device clock was moved since a measurement that recorded ``boot_id``
    and ``wall_at_boot`` (device clock minus time since boot): positive when set forward.
    0 when that cannot be told (another boot, no boot clock, nothing recorded)."""
    if boot is None or not boot_id or boot.boot_id != boot_id:
        return 0.0
    return (now - boot.seconds_since_boot) - wall_at_boot
