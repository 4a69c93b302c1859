"""Every metric the bank's processes count, and the small functions the apps record with.

A leaf: it imports ``prometheus_client`` only (no Django, nothing of the bank), so every
app may call it, ``audit`` and ``notifications`` included (docs/architecture.md).

granian runs several worker processes, so the counts are kept in prometheus_client's
multiprocess mode: with ``PROMETHEUS_MULTIPROC_DIR`` set in the environment before this
module is imported, each process writes its counts into files there and
``netbank metrics-server`` adds them up at scrape time (docs/operations.md, "Metrics").
Without it the counts stay in the process (development, the unit tests).

No label carries a customer's identity: every label value comes from a small fixed set
defined here, and a value outside it is counted as ``other``.

Every child (one label combination) is made here once, at import, so recording is a dict
lookup and an increment: the OTP verification path pays for no label handling.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.context_managers import Timer

OTHER: Final = "other"

# The metrics of this module, for the unit tests and a process without a multiprocess
# directory; the metrics server reads the directory instead (netbank.ops.exposition).
REGISTRY = CollectorRegistry(auto_describe=True)

# Where a login or an OTP check came from (the bank's own channel names; the channels of
# the verification API all count as "api").
CHANNELS: Final = ("web", "direct", "passkey", "api", "demo")

LOGIN_PASSWORD_OUTCOMES: Final = (
    "accepted",
    "wrong_password",
    "unknown_id",
    "locked",
    "throttled",
    "suspended",
    "policy",
)
# Kinds of the credential core's checks (netbank.credentials).
CREDENTIAL_KINDS: Final = ("otp", "txauth", "operator_totp", "passkey")
# accepted; rejected (counted); locked (this failure locked the counter); refused_locked
# (already locked: nothing verified); not_counted (settled without counting: an expired
# challenge, a sealed secret that does not open).
CREDENTIAL_OUTCOMES: Final = ("accepted", "rejected", "locked", "refused_locked", "not_counted")
# The lockout counters' kinds (customers.lockout), and the operators' console login.
LOCKOUT_KINDS: Final = (
    "login_password",
    "otp",
    "transaction_password",
    "secret_answer",
    "signing_code",
    "operator",
)
TRANSFER_KINDS: Final = ("furikae", "furikomi")
TRANSFER_OUTCOMES: Final = ("completed", "scheduled", "cancelled", "failed")
DIRECT_LOGIN_EVENTS: Final = ("issued", "used")
# sent; retry (not delivered, tried again later); failed (for good); uncertain (handed
# over, outcome unknown: never retried).
MAIL_OUTCOMES: Final = ("sent", "retry", "failed", "uncertain")

# Seconds: an OTP check takes about a millisecond on PostgreSQL (docs/performance.md).
VERIFICATION_BUCKETS: Final = (
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)

LOGIN_PASSWORD_CHECKS = Counter(
    "netbank_login_password_checks",
    "Login step 1 (login ID and password) by channel and outcome.",
    ["channel", "outcome"],
    registry=REGISTRY,
)
LOGINS = Counter(
    "netbank_logins",
    "Logins completed (every factor passed), by channel.",
    ["channel"],
    registry=REGISTRY,
)
CREDENTIAL_CHECKS = Counter(
    "netbank_credential_checks",
    "Checks of one-time credentials (customer OTP, 取引認証, operator TOTP, passkey) by kind "
    "and outcome.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
OTP_VERIFICATION_SECONDS = Histogram(
    "netbank_otp_verification_seconds",
    "Time of one customer OTP verification, from the row lock to the commit (the web's "
    "and Directログイン's checks, and every call of the verification API).",
    buckets=VERIFICATION_BUCKETS,
    registry=REGISTRY,
)
LOCKOUTS = Counter(
    "netbank_lockouts",
    "Lockout counters that locked, by credential kind.",
    ["kind"],
    registry=REGISTRY,
)
TRANSFERS = Counter(
    "netbank_transfers",
    "振替 and 振込 by kind and outcome (a 振込予約 counts when scheduled and when run).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
DIRECT_LOGIN_URLS = Counter(
    "netbank_direct_login_urls",
    "Direct login URLs issued and used.",
    ["event"],
    registry=REGISTRY,
)
MAILS = Counter(
    "netbank_mails",
    "Outbox delivery attempts by outcome.",
    ["outcome"],
    registry=REGISTRY,
)


def _children(counter: Counter, *label_sets: Iterable[str]) -> dict[tuple[str, ...], Counter]:
    """Every combination of the label values (each set plus ``other``), made now."""
    combos: list[tuple[str, ...]] = [()]
    for values in label_sets:
        combos = [(*combo, value) for combo in combos for value in (*values, OTHER)]
    return {combo: counter.labels(*combo) for combo in combos}


def _known(value: str, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else OTHER


_LOGIN_PASSWORD = _children(LOGIN_PASSWORD_CHECKS, CHANNELS, LOGIN_PASSWORD_OUTCOMES)
_LOGINS = _children(LOGINS, CHANNELS)
_CREDENTIAL = _children(CREDENTIAL_CHECKS, CREDENTIAL_KINDS, CREDENTIAL_OUTCOMES)
_LOCKOUTS = _children(LOCKOUTS, LOCKOUT_KINDS)
_TRANSFERS = _children(TRANSFERS, TRANSFER_KINDS, TRANSFER_OUTCOMES)
_DIRECT_LOGIN = _children(DIRECT_LOGIN_URLS, DIRECT_LOGIN_EVENTS)
_MAILS = _children(MAILS, MAIL_OUTCOMES)


def login_password(channel: str, outcome: str) -> None:
    """Login step 1 ended with ``outcome`` (LOGIN_PASSWORD_OUTCOMES)."""
    key = (_known(channel, CHANNELS), _known(outcome, LOGIN_PASSWORD_OUTCOMES))
    _LOGIN_PASSWORD[key].inc()


def login(channel: str) -> None:
    """A login completed: every factor passed."""
    _LOGINS[(_known(channel, CHANNELS),)].inc()


def credential_check(kind: str, outcome: str) -> None:
    """One check of the credential core ended with ``outcome`` (CREDENTIAL_OUTCOMES)."""
    key = (kind, outcome)
    child = _CREDENTIAL.get(key)
    if child is None:  # not on the hot path: the bank's kinds and outcomes are known
        child = _CREDENTIAL[(_known(kind, CREDENTIAL_KINDS), _known(outcome, CREDENTIAL_OUTCOMES))]
    child.inc()


def otp_verification_timer() -> Timer:
    """Times one customer OTP verification, as a ``with`` block (from the lock to the
    commit, on the web and the verification API alike)."""
    return OTP_VERIFICATION_SECONDS.time()


def lockout(kind: str) -> None:
    """A lockout counter of ``kind`` locked (LOCKOUT_KINDS)."""
    _LOCKOUTS[(_known(kind, LOCKOUT_KINDS),)].inc()


def transfer(kind: str, outcome: str) -> None:
    """A 振替 or 振込 (``kind``) was completed, scheduled, cancelled or failed."""
    _TRANSFERS[(_known(kind, TRANSFER_KINDS), _known(outcome, TRANSFER_OUTCOMES))].inc()


def direct_login(event: str) -> None:
    """A Direct login URL was issued or used."""
    _DIRECT_LOGIN[(_known(event, DIRECT_LOGIN_EVENTS),)].inc()


def mail(outcome: str, count: int = 1) -> None:
    """``count`` delivery attempts of outbox mails ended with ``outcome`` (MAIL_OUTCOMES)."""
    _MAILS[(_known(outcome, MAIL_OUTCOMES),)].inc(count)
