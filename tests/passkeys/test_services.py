"""The passkey services with a software authenticator: options, registration, the
assertion check (accepted and every refusal), single use, expiry, the sign counter,
credential ids, the user handle, and failures counting on the customer's OTP counter."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import pytest
from django.core import mail
from pytest_django.fixtures import Settings

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.customers import lockout
from netbank.customers.models import Customer
from netbank.notifications.models import OutboxMail
from netbank.passkeys import services
from netbank.passkeys.models import Passkey, PasskeyChallenge, PasskeyUser
from netbank.passkeys.services import PasskeyError
from tests.customers.factories import make_customer
from tests.otp.factories import in_use_token
from tests.passkeys.authenticator import SoftAuthenticator, b64url, b64url_decode
from tests.passkeys.support import ORIGIN, RP_ID, otp_failures, registered

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relying_party")]


def login(auth: SoftAuthenticator, **kw: Any) -> services.PasskeyOutcome:
    response = auth.get(services.login_options(), **kw)
    return services.authenticate(response=response, purpose="login", ip="203.0.113.1")


def events(name: str) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(event=name).order_by("pk"))


# --- options --------------------------------------------------------------------------


def test_registration_options_ask_for_a_discoverable_verified_credential(
    customer: Customer,
) -> None:
    options = services.registration_options(customer=customer)
    assert options["rp"] == {"id": RP_ID, "name": "ネットバンク"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none"
    assert options["excludeCredentials"] == []
    assert len(b64url_decode(options["challenge"])) == 32
    # The user handle: 32 random bytes, not the login ID (nor shown in the user name).
    handle = b64url_decode(options["user"]["id"])
    assert len(handle) == 32
    assert b"hanako01" not in handle
    assert "hanako01" not in options["user"]["name"]
    assert PasskeyUser.objects.get(customer=customer).user_handle == handle
    other = make_customer()
    in_use_token(other)
    other_handle = b64url_decode(services.registration_options(customer=other)["user"]["id"])
    assert other_handle != handle
    # The same customer keeps one handle.
    again = services.registration_options(customer=customer)
    assert b64url_decode(again["user"]["id"]) == handle


def test_registration_options_exclude_the_customers_passkeys(customer: Customer) -> None:
    auth, _passkey = registered(customer)
    options = services.registration_options(customer=customer)
    assert [d["id"] for d in options["excludeCredentials"]] == [b64url(auth.credential_id)]


def test_only_a_customer_whose_otp_is_in_use_may_register() -> None:
    without_otp = make_customer()
    with pytest.raises(PasskeyError) as refused:
        services.registration_options(customer=without_otp)
    assert refused.value.code == "not_allowed"


def test_login_options_are_discoverable_with_user_verification() -> None:
    options = services.login_options()
    assert options["rpId"] == RP_ID
    assert options["allowCredentials"] == []
    assert options["userVerification"] == "required"
    challenge = PasskeyChallenge.objects.get(sent=b64url_decode(options["challenge"]))
    assert challenge.purpose == "login"
    assert (challenge.expires_at - challenge.created_at).total_seconds() == 300


def test_configured_rp_id_and_origins_override_the_public_url(
    settings: Settings, customer: Customer
) -> None:
    settings.NETBANK_WEBAUTHN_RP_ID = "example.jp"
    settings.NETBANK_WEBAUTHN_ORIGINS = ["https://www.example.jp"]
    auth = SoftAuthenticator(rp_id="example.jp", origin="https://www.example.jp")
    options = services.registration_options(customer=customer)
    assert options["rp"]["id"] == "example.jp"
    services.register(customer=customer, response=auth.create(options), name="PC", ip=None)
    assert login(auth).accepted
    # The public URL's origin is no longer one of the bank's.
    assert login(auth, origin=ORIGIN).reason == "invalid"


# --- registration ---------------------------------------------------------------------


def test_register_stores_the_passkey_audits_and_mails_a_notice(customer: Customer) -> None:
    _auth, passkey = registered(customer, synced=True)
    assert passkey.name == "iPhone"
    assert passkey.backup_eligible
    assert passkey.backup_state
    assert passkey.transports == ["internal"]
    assert [r.customer_id for r in events("passkey.registered")] == [customer.pk]
    notice = OutboxMail.objects.get(purpose="passkey_registered")
    assert notice.to_addr == customer.email
    assert "パスキー登録のお知らせ" in notice.subject
    assert "パスキーの登録（iPhone）" in notice.body
    assert "0120-058-098" in notice.body
    assert "3番" in notice.body


def test_a_device_bound_passkey_is_not_synced(customer: Customer) -> None:
    _auth, passkey = registered(customer, synced=False)
    assert not passkey.backup_eligible


def test_registration_without_user_verification_is_refused(customer: Customer) -> None:
    with pytest.raises(PasskeyError) as refused:
        registered(customer, user_verified=False)
    assert refused.value.code == "invalid"
    assert not Passkey.objects.exists()


def test_registration_from_another_origin_is_refused(customer: Customer) -> None:
    auth = SoftAuthenticator(rp_id=RP_ID, origin="https://bank-example.jp.evil.test")
    with pytest.raises(PasskeyError):
        services.register(
            customer=customer,
            response=auth.create(services.registration_options(customer=customer)),
            name="x",
            ip=None,
        )
    assert not Passkey.objects.exists()


def test_a_registration_answer_is_good_once(customer: Customer) -> None:
    auth = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN)
    response = auth.create(services.registration_options(customer=customer))
    services.register(customer=customer, response=response, name="a", ip=None)
    with pytest.raises(PasskeyError) as refused:
        services.register(customer=customer, response=response, name="b", ip=None)
    assert refused.value.code == "challenge"


def test_a_registration_challenge_is_the_customers_own(customer: Customer) -> None:
    other = make_customer()
    in_use_token(other)
    auth = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN)
    response = auth.create(services.registration_options(customer=other))
    with pytest.raises(PasskeyError) as refused:
        services.register(customer=customer, response=response, name="a", ip=None)
    assert refused.value.code == "challenge"


def test_a_credential_id_is_registered_once(customer: Customer) -> None:
    auth, _passkey = registered(customer)
    other = make_customer()
    in_use_token(other)
    clone = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN, credential_id=auth.credential_id)
    with pytest.raises(PasskeyError) as refused:
        services.register(
            customer=other,
            response=clone.create(services.registration_options(customer=other)),
            name="x",
            ip=None,
        )
    assert refused.value.code == "duplicate"
    assert Passkey.objects.get().customer == customer


@pytest.mark.parametrize("name", ["", "   ", "あ" * 31, "a\u202eb", "a\x00"])
def test_a_bad_name_is_refused_with_a_message(customer: Customer, name: str) -> None:
    auth = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN)
    response = auth.create(services.registration_options(customer=customer))
    with pytest.raises(PasskeyError) as refused:
        services.register(customer=customer, response=response, name=name, ip=None)
    assert refused.value.code == "name"
    assert "パスキーの名前" in refused.value.message


def test_registration_expires_after_5_minutes(customer: Customer, frozen_clock: datetime) -> None:
    auth = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN)
    response = auth.create(services.registration_options(customer=customer))
    clock.advance(300)
    with pytest.raises(PasskeyError) as refused:
        services.register(customer=customer, response=response, name="a", ip=None)
    assert refused.value.code == "challenge"


# --- authentication -------------------------------------------------------------------


def test_a_verified_passkey_logs_in_and_resets_the_otp_counter(customer: Customer) -> None:
    auth, passkey = registered(customer)
    lockout.lockout_register_failure(
        kind=lockout.OTP, subject=lockout.subject_for_customer(customer), customer=customer
    )
    assert otp_failures(customer) == 1
    outcome = login(auth)
    assert outcome.accepted
    assert outcome.reason == "accepted"
    assert outcome.customer == customer
    assert outcome.passkey == passkey
    assert otp_failures(customer) == 0
    passkey.refresh_from_db()
    assert passkey.sign_count == 1
    assert passkey.last_used_at is not None
    assert [r.customer_id for r in events("passkey.accepted")] == [customer.pk]


def test_an_assertion_is_accepted_once(customer: Customer) -> None:
    auth, _passkey = registered(customer)
    response = auth.get(services.login_options())
    assert services.authenticate(response=response, purpose="login", ip=None).accepted
    replay = services.authenticate(response=response, purpose="login", ip=None)
    assert not replay.accepted
    assert replay.reason == "replayed"
    assert otp_failures(customer) == 1
    assert events("passkey.refused")[-1].data["reason"] == "replayed"


def test_a_challenge_is_single_use_even_for_a_fresh_assertion(customer: Customer) -> None:
    auth, _passkey = registered(customer)
    options = services.login_options()
    assert services.authenticate(response=auth.get(options), purpose="login", ip=None).accepted
    again = services.authenticate(response=auth.get(options), purpose="login", ip=None)
    assert again.reason == "replayed"


def test_a_challenge_expires_after_5_minutes_uncounted(
    customer: Customer, frozen_clock: datetime
) -> None:
    auth, _passkey = registered(customer)
    response = auth.get(services.login_options())
    clock.advance(299)
    fresh = auth.get(services.login_options())
    clock.advance(1)
    expired = services.authenticate(response=response, purpose="login", ip=None)
    assert not expired.accepted
    assert expired.reason == "expired"
    assert otp_failures(customer) == 0
    assert services.authenticate(response=fresh, purpose="login", ip=None).accepted


def test_user_verification_off_is_refused_and_counted(customer: Customer) -> None:
    auth, _passkey = registered(customer)
    auth.user_verified = False
    outcome = login(auth)
    assert not outcome.accepted
    assert outcome.reason == "invalid"
    assert otp_failures(customer) == 1


def test_another_origin_is_refused(customer: Customer) -> None:
    auth, _passkey = registered(customer)
    outcome = login(auth, origin="https://bank.example.jp.phish.test")
    assert not outcome.accepted
    assert outcome.reason == "invalid"


def test_another_rp_id_is_refused(customer: Customer) -> None:
    auth, _passkey = registered(customer)
    assert login(auth, rp_id="phish.test").reason == "invalid"


def test_an_unregistered_authenticator_is_refused_uncounted() -> None:
    stranger = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN)
    outcome = login(stranger)
    assert not outcome.accepted
    assert outcome.reason == "unknown_credential"
    assert outcome.customer is None
    assert events("passkey.refused")[-1].data["reason"] == "unknown_credential"


def test_a_forged_signature_is_refused(customer: Customer) -> None:
    auth, _passkey = registered(customer)
    forger = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN, credential_id=auth.credential_id)
    forger.user_handle = auth.user_handle
    assert login(forger).reason == "invalid"


def test_a_sign_count_going_back_is_recorded_and_refused(customer: Customer) -> None:
    auth, passkey = registered(customer)
    assert login(auth).accepted
    assert login(auth).accepted  # the counter is now 2
    auth.sign_count = 1  # a copy of the key that signed fewer times: the next is 2 again
    outcome = login(auth)
    assert not outcome.accepted
    assert outcome.reason == "sign_count"
    refusal = events("passkey.refused")[-1]
    assert refusal.data["reason"] == "sign_count"
    assert refusal.data["stored_sign_count"] == 2
    passkey.refresh_from_db()
    assert passkey.sign_count == 2


def test_an_authenticator_that_does_not_count_is_accepted_each_time(customer: Customer) -> None:
    auth, _passkey = registered(customer, counts=False, synced=True)
    assert login(auth).accepted
    assert login(auth).accepted


def test_a_user_handle_of_someone_else_is_refused(customer: Customer) -> None:
    auth, _passkey = registered(customer)
    auth.user_handle = b"\x01" * 32
    assert login(auth).reason == "user_handle"


def test_a_suspended_customer_is_refused(customer: Customer) -> None:
    auth, _passkey = registered(customer)
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.SUSPENDED)
    outcome = login(auth)
    assert not outcome.accepted
    assert outcome.reason == "suspended"
    assert "停止" in outcome.message


def test_a_removed_passkey_is_refused(customer: Customer) -> None:
    auth, passkey = registered(customer)
    services.remove(customer=customer, passkey_id=passkey.pk, ip=None, otp_checked=True)
    assert login(auth).reason == "revoked"


def test_failures_count_on_the_otp_counter_and_lock_it(customer: Customer) -> None:
    auth, _passkey = registered(customer)
    good = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN, credential_id=auth.credential_id)
    good.key, good.user_handle = auth.key, auth.user_handle
    auth.user_verified = False
    outcomes = [login(auth) for _ in range(5)]
    assert [o.locked for o in outcomes] == [False] * 4 + [True]
    assert "ワンタイムパスワード" in outcomes[-1].message
    good.sign_count = 100
    locked = login(good)
    assert not locked.accepted
    assert locked.reason == "locked"
    # The OTP login is locked as well: one counter for the customer's credentials.
    status = lockout.lockout_status(
        kind=lockout.OTP, subject=lockout.subject_for_customer(customer)
    )
    assert status.locked


def test_a_malformed_response_is_refused_with_a_message() -> None:
    for response in ({}, {"id": "!!", "response": {}}, {"rawId": "AA", "response": "x"}):
        outcome = services.authenticate(response=response, purpose="login", ip=None)
        assert not outcome.accepted
        assert outcome.reason == "malformed"
        assert outcome.message


def test_login_is_throttled_per_client(settings: Settings, customer: Customer) -> None:
    settings.NETBANK_THROTTLE = {**settings.NETBANK_THROTTLE, "login_per_ip_per_minute": 2}
    auth, _passkey = registered(customer)
    stranger = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN)
    assert login(stranger).reason == "unknown_credential"
    assert login(stranger).reason == "unknown_credential"
    assert login(auth).reason == "throttled"


# --- confirmation (the service banking builds on) ---------------------------------------


def test_a_confirmation_is_bound_to_its_operation(customer: Customer) -> None:
    auth, _passkey = registered(customer)
    operation = b"transfer|0001|001|1|1234567|50000"
    options = services.authentication_options(customer=customer, operation=operation)
    assert [d["id"] for d in options["allowCredentials"]] == [b64url(auth.credential_id)]
    row = PasskeyChallenge.objects.get(sent=b64url_decode(options["challenge"]))
    assert bytes(row.operation_digest) == hashlib.sha256(operation).digest()
    assert (
        bytes(row.sent)
        == hashlib.sha256(
            b"netbank-passkey-confirm/1\0"
            + bytes(row.challenge)
            + hashlib.sha256(operation).digest()
        ).digest()
    )
    response = auth.get(options)
    other = services.authenticate(
        response=response,
        purpose="confirm",
        customer=customer,
        operation=b"transfer|0001|001|1|7654321|50000",
        ip=None,
    )
    assert not other.accepted
    assert other.reason == "operation"
    response = auth.get(services.authentication_options(customer=customer, operation=operation))
    outcome = services.authenticate(
        response=response, purpose="confirm", customer=customer, operation=operation, ip=None
    )
    assert outcome.accepted


def test_a_login_assertion_does_not_confirm_and_the_reverse(customer: Customer) -> None:
    auth, _passkey = registered(customer)
    login_response = auth.get(services.login_options())
    assert (
        services.authenticate(
            response=login_response, purpose="confirm", customer=customer, operation=b"x", ip=None
        ).reason
        == "no_challenge"
    )
    confirm_response = auth.get(services.authentication_options(customer=customer, operation=b"x"))
    assert (
        services.authenticate(response=confirm_response, purpose="login", ip=None).reason
        == "no_challenge"
    )


def test_another_customers_passkey_does_not_confirm(customer: Customer) -> None:
    other = make_customer()
    in_use_token(other)
    other_auth, _passkey = registered(other)
    registered(customer)
    options = services.authentication_options(customer=customer, operation=b"x")
    outcome = services.authenticate(
        response=other_auth.get(options),
        purpose="confirm",
        customer=customer,
        operation=b"x",
        ip=None,
    )
    assert not outcome.accepted
    assert outcome.reason == "wrong_customer"
    assert otp_failures(customer) == 1


# --- rename, remove, revoke, listing ----------------------------------------------------


def test_rename_remove_and_the_last_one_needs_the_otp(customer: Customer) -> None:
    _a, first = registered(customer)
    _b, second = registered(customer)
    assert [p.pk for p in services.passkeys_of(customer)] == [first.pk, second.pk]
    services.rename(customer=customer, passkey_id=first.pk, name="会社のPC")
    assert Passkey.objects.get(pk=first.pk).name == "会社のPC"
    services.remove(customer=customer, passkey_id=first.pk, ip=None, otp_checked=False)
    with pytest.raises(PasskeyError) as refused:
        services.remove(customer=customer, passkey_id=second.pk, ip=None, otp_checked=False)
    assert refused.value.code == "otp_needed"
    services.remove(customer=customer, passkey_id=second.pk, ip=None, otp_checked=True)
    assert services.passkeys_of(customer) == []
    notices = OutboxMail.objects.filter(purpose="passkey_removed")
    assert notices.count() == 2
    assert "パスキーの削除（会社のPC）" in notices.first().body  # type: ignore[union-attr]
    assert len(events("passkey.removed")) == 2


def test_a_customer_cannot_touch_another_customers_passkey(customer: Customer) -> None:
    other = make_customer()
    in_use_token(other)
    _auth, theirs = registered(other)
    with pytest.raises(PasskeyError):
        services.rename(customer=customer, passkey_id=theirs.pk, name="mine")
    with pytest.raises(PasskeyError):
        services.remove(customer=customer, passkey_id=theirs.pk, ip=None, otp_checked=True)
    assert Passkey.objects.get(pk=theirs.pk).revoked_at is None


def test_the_helpdesk_revokes_with_the_operator_in_the_trail(customer: Customer) -> None:
    from django.contrib.auth.models import User

    operator = User.objects.create_user("op1", password="x" * 12)
    auth, passkey = registered(customer)
    services.revoke(operator=operator, passkey_id=passkey.pk, reason="紛失")
    passkey.refresh_from_db()
    assert passkey.revoked_by == f"operator:{operator.pk}"
    assert passkey.revoked_reason == "紛失"
    record = events("passkey.revoked")[-1]
    assert record.operator_id == operator.pk
    assert record.customer_id == customer.pk
    assert login(auth).reason == "revoked"
    assert OutboxMail.objects.filter(purpose="passkey_revoked").count() == 1


def test_passkey_required_only_with_the_setting_and_a_passkey(
    settings: Settings, customer: Customer
) -> None:
    assert not services.passkey_required_for(customer)
    registered(customer)
    assert not services.passkey_required_for(customer)
    settings.NETBANK_PASSKEY_REQUIRED = True
    assert services.passkey_required_for(customer)


def test_no_mail_leaves_the_outbox_directly() -> None:
    # Notices go through the outbox (same transaction), never straight to SMTP.
    assert mail.outbox == []
    assert json.dumps(services.login_options())


def test_housekeeping_deletes_challenges_expired_over_an_hour_ago(frozen_clock: datetime) -> None:
    from io import StringIO

    from django.core.management import call_command

    services.login_options()
    clock.advance(300 + 3600)
    kept = services.login_options()
    out = StringIO()
    call_command("purge_passkey_challenges", stdout=out)
    assert "passkey challenges deleted: 0" in out.getvalue()
    clock.advance(1)
    call_command("purge_passkey_challenges", stdout=out)
    assert "passkey challenges deleted: 1" in out.getvalue()
    assert list(PasskeyChallenge.objects.values_list("sent", flat=True)) == [
        b64url_decode(kept["challenge"])
    ]
