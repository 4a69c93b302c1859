"""A customer's passkeys in use: list, rename, removal by the customer, revocation by
the helpdesk, ``NETBANK_PASSKEY_REQUIRED`` (with the password login's gate) and the
housekeeping of expired challenges."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from netbank import clock
from netbank.audit.services import record
from netbank.customers.login_policy import login_recovery_consume
from netbank.customers.messages import helpdesk_line
from netbank.customers.models import Customer
from netbank.passkeys import conf
from netbank.passkeys.common import (
    PasskeyError,
    _notice,
    validate_name,
)
from netbank.passkeys.models import Passkey, PasskeyChallenge


def passkeys_of(customer: Customer) -> list[Passkey]:
    """The customer's passkeys in use, oldest first."""
    return list(
        Passkey.objects.filter(customer=customer, revoked_at__isnull=True).order_by(
            "created_at", "pk"
        )
    )


def passkey_required_for(customer: Customer) -> bool:
    """``NETBANK_PASSKEY_REQUIRED`` and the customer has a passkey: OTP alone is refused."""
    return (
        conf.passkey_required()
        and Passkey.objects.filter(customer=customer, revoked_at__isnull=True).exists()
    )


def _own_passkey(customer: Customer, passkey_id: int) -> Passkey:
    passkey = (
        Passkey.objects.select_for_update()
        .filter(pk=passkey_id, customer=customer, revoked_at__isnull=True)
        .first()
    )
    if passkey is None:
        raise PasskeyError(_("このパスキーは登録されていません。"), code="not_found")
    return passkey


def rename(*, customer: Customer, passkey_id: int, name: str) -> Passkey:
    name = validate_name(name)
    with transaction.atomic():
        passkey = _own_passkey(customer, passkey_id)
        passkey.name = name
        passkey.save(update_fields=["name"])
        record("passkey.renamed", customer_id=customer.pk, passkey_id=passkey.pk)
    return passkey


def is_last(*, customer: Customer, passkey_id: int) -> bool:
    """Whether removing this passkey would leave the customer none."""
    return not (
        Passkey.objects.filter(customer=customer, revoked_at__isnull=True)
        .exclude(pk=passkey_id)
        .exists()
    )


def remove(*, customer: Customer, passkey_id: int, ip: str | None, otp_checked: bool) -> Passkey:
    """The customer removes a passkey. The last one only with the current OTP, checked
    by the view (``otp_checked``): a stolen session alone cannot take the customer's
    strongest credential away unnoticed. Mails a notice."""
    with transaction.atomic():
        # Lock every active passkey of the customer: two removals at once cannot both
        # think another one remains.
        active = list(
            Passkey.objects.select_for_update().filter(customer=customer, revoked_at__isnull=True)
        )
        passkey = next((p for p in active if p.pk == passkey_id), None)
        if passkey is None:
            raise PasskeyError(_("このパスキーは登録されていません。"), code="not_found")
        if len(active) == 1 and not otp_checked:
            raise PasskeyError(
                _("最後のパスキーを削除するには、ワンタイムパスワードを入力してください。"),
                code="otp_needed",
            )
        passkey.revoked_at = clock.now()
        passkey.revoked_by = "customer"
        passkey.save(update_fields=["revoked_at", "revoked_by"])
        record("passkey.removed", customer_id=customer.pk, ip=ip, passkey_id=passkey.pk)
        _notice(
            customer=customer,
            subject=gettext_noop("パスキー削除のお知らせ"),
            what=gettext_noop("パスキーの削除（%(name)s）"),
            name=passkey.name,
            ip=ip,
            purpose="passkey_removed",
        )
    return passkey


def revoke(*, operator: Any, passkey_id: int, reason: str) -> Passkey:
    """The helpdesk revokes a customer's passkey (``operator``: the console's auth user).
    Audited with the operator; the customer gets the removal notice."""
    with transaction.atomic():
        passkey = (
            Passkey.objects.select_for_update()
            .select_related("customer")
            .filter(pk=passkey_id, revoked_at__isnull=True)
            .first()
        )
        if passkey is None:
            raise PasskeyError(_("このパスキーは登録されていません。"), code="not_found")
        passkey.revoked_at = clock.now()
        passkey.revoked_by = f"operator:{operator.pk}"
        passkey.revoked_reason = str(reason)[:200]
        passkey.save(update_fields=["revoked_at", "revoked_by", "revoked_reason"])
        record(
            "passkey.revoked",
            customer_id=passkey.customer_id,
            operator_id=operator.pk,
            passkey_id=passkey.pk,
            reason=passkey.revoked_reason,
        )
        _notice(
            customer=passkey.customer,
            subject=gettext_noop("パスキー削除のお知らせ"),
            what=gettext_noop("ヘルプデスクによるパスキーの利用停止（%(name)s）"),
            name=passkey.name,
            ip=None,
            purpose="passkey_revoked",
        )
    return passkey


def challenges_purge(*, older_than_seconds: int = 3600) -> int:
    """Delete challenges that expired over ``older_than_seconds`` ago (housekeeping)."""
    before = clock.now() - timedelta(seconds=older_than_seconds)
    deleted, _rows = PasskeyChallenge.objects.filter(expires_at__lt=before).delete()
    return deleted


# --- NETBANK_PASSKEY_REQUIRED at the password login ------------------------------------


def passkey_login_gate(*, customer: Customer, channel: str, ip: str | None) -> str | None:
    """The login gate this app registers with ``customers.login_policy``: with
    ``NETBANK_PASSKEY_REQUIRED`` a customer who has a passkey may not log in with ID +
    password + OTP (web or Directログイン), unless the helpdesk granted one login
    (``login_recovery_consume``: single use). Runs after the password was accepted."""
    if not passkey_required_for(customer):
        return None
    if login_recovery_consume(customer=customer, ip=ip, channel=channel):
        return None
    record("login.refused_passkey_required", customer_id=customer.pk, ip=ip, channel=channel)
    return " ".join(
        (
            _(
                "パスキーを登録されているお客さまは、パスキーでログインしてください"
                "（ログイン画面の「パスキーでログイン」）。パスキーをご利用いただけない場合は、"
                "ヘルプデスクへご連絡ください。"
            ),
            helpdesk_line(),
        )
    )
