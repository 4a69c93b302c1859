"""The recording functions of netbank.ops.metrics: each counts on its own series, and no
label takes a value outside its small fixed set."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from netbank.ops import metrics


def _value(name: str, **labels: str) -> float:
    value = metrics.REGISTRY.get_sample_value(name, labels)
    assert value is not None, (name, labels)
    return value


@pytest.mark.parametrize(
    ("record", "name", "labels"),
    [
        (lambda: metrics.login_password("web", "unknown_id"), "netbank_login_password_checks_total", {"channel": "web", "outcome": "unknown_id"}),
        (lambda: metrics.login("direct"), "netbank_logins_total", {"channel": "direct"}),
        (lambda: metrics.credential_check("otp", "rejected"), "netbank_credential_checks_total", {"kind": "otp", "outcome": "rejected"}),
        (lambda: metrics.lockout("signing_code"), "netbank_lockouts_total", {"kind": "signing_code"}),
        (lambda: metrics.transfer("furikomi", "scheduled"), "netbank_transfers_total", {"kind": "furikomi", "outcome": "scheduled"}),
        (lambda: metrics.direct_login("used"), "netbank_direct_login_urls_total", {"event": "used"}),
        (lambda: metrics.mail("uncertain"), "netbank_mails_total", {"outcome": "uncertain"}),
    ],
)  # fmt: skip
def test_each_function_counts_one_on_its_series(
    record: Callable[[], None], name: str, labels: dict[str, str]
) -> None:
    before = _value(name, **labels)
    record()
    assert _value(name, **labels) == before + 1


def test_a_value_outside_the_fixed_set_counts_as_other() -> None:
    before = _value("netbank_login_password_checks_total", channel="other", outcome="other")
    # E.g. a channel named after something a caller passed through by mistake.
    metrics.login_password("customer-1234", "A1B2C3D4")
    assert _value("netbank_login_password_checks_total", channel="other", outcome="other") == (
        before + 1
    )
    assert (
        metrics.REGISTRY.get_sample_value(
            "netbank_login_password_checks_total",
            {"channel": "customer-1234", "outcome": "A1B2C3D4"},
        )
        is None
    )
    kind_before = _value("netbank_credential_checks_total", kind="other", outcome="accepted")
    metrics.credential_check("somebody", "accepted")
    assert _value("netbank_credential_checks_total", kind="other", outcome="accepted") == (
        kind_before + 1
    )


def test_mail_counts_several_at_once() -> None:
    before = _value("netbank_mails_total", outcome="uncertain")
    metrics.mail("uncertain", 3)
    assert _value("netbank_mails_total", outcome="uncertain") == before + 3


def test_the_verification_histogram_buckets_each_observation() -> None:
    count = _value("netbank_otp_verification_seconds_count")
    fast = _value("netbank_otp_verification_seconds_bucket", le="0.001")
    slow = _value("netbank_otp_verification_seconds_bucket", le="0.1")
    with metrics.otp_verification_timer():
        pass  # well under a millisecond
    with metrics.otp_verification_timer():
        time.sleep(0.02)  # over a millisecond, under 0.1 s
    assert _value("netbank_otp_verification_seconds_count") == count + 2
    assert _value("netbank_otp_verification_seconds_bucket", le="0.001") == fast + 1
    assert _value("netbank_otp_verification_seconds_bucket", le="0.1") == slow + 2


ALLOWED = {
    "channel": set(metrics.CHANNELS),
    "outcome": {
        *metrics.LOGIN_PASSWORD_OUTCOMES,
        *metrics.CREDENTIAL_OUTCOMES,
        *metrics.TRANSFER_OUTCOMES,
        *metrics.MAIL_OUTCOMES,
    },
    "kind": {*metrics.CREDENTIAL_KINDS, *metrics.LOCKOUT_KINDS, *metrics.TRANSFER_KINDS},
    "event": set(metrics.DIRECT_LOGIN_EVENTS),
    "le": None,  # the histogram's bucket bounds
}


def test_every_label_takes_values_from_a_small_fixed_set() -> None:
    samples = [s for family in metrics.REGISTRY.collect() for s in family.samples]
    assert samples
    for sample in samples:
        for label, value in sample.labels.items():
            assert label in ALLOWED, sample
            allowed = ALLOWED[label]
            if allowed is not None:
                assert value in {*allowed, metrics.OTHER}, sample
