"""登録先: registering a payee needs a signing code over its account, and waits out
the hold after a token issue; customers who cannot sign cannot register online."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from netbank import clock
from netbank.audit.services import record
from netbank.banking import notices
from netbank.banking.confirmation import confirm_operation, confirmation_check
from netbank.banking.destination import Destination, destination_named
from netbank.banking.errors import (
    BankingError,
    CustomerNotActiveError,
    SigningRejectedError,
)
from netbank.banking.models import Account, Payee, SigningChallenge
from netbank.banking.transfers import SUSPENDED_MESSAGE, own_bank_code, registered_payee
from netbank.customers.models import Customer

MAX_PAYEES = 100


def payee_destination(
    *, customer: Customer, destination: Destination, own_account_check: bool = True
) -> Destination:
    """Validate a payee to be registered; returns it with the name converted."""
    clean = destination_named(destination)
    if registered_payee(customer, clean) is not None:
        raise BankingError(_("この振込先は既に登録されています。"), code="duplicate_payee")
    if own_account_check and clean.bank_code == own_bank_code():
        exists = Account.objects.filter(
            kind=Account.Kind.CUSTOMER,
            closed_at__isnull=True,
            branch_code=clean.branch_code,
            account_type=clean.account_type,
            account_number=clean.account_number,
        ).exists()
        if not exists:
            raise BankingError(
                _("お振込先の口座が見つかりません。支店コード・科目・口座番号をご確認ください。"),
                code="no_such_account",
            )
    return clean


def payee_registration_check(customer: Customer) -> None:
    """Refuse before any input if this customer cannot register payees now (no way to
    confirm it, the hold after a token issue or passkey registration, a lock)."""
    confirmation_check(customer)


def payee_register(
    *,
    customer: Customer,
    destination: Destination,
    nickname: str = "",
    challenge_id: int | None,
    signing_code: str | None,
    ip: str | None = None,
    draft_key: str = "",
    passkey_response: dict[str, Any] | None = None,
) -> Payee:
    """Register a 登録先, confirmed by a 取引認証番号 over its account, or by the
    customer's passkey over the same operation and ``draft_key`` (the 確認 draft's key)."""
    rejected: str | None = None
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.status != Customer.Status.ACTIVE:
            raise CustomerNotActiveError(SUSPENDED_MESSAGE)
        payee_registration_check(locked)
        clean = payee_destination(customer=locked, destination=destination)
        if Payee.objects.filter(customer=locked).count() >= MAX_PAYEES:
            raise BankingError(
                _("登録先は%(max)s件まで登録できます。") % {"max": MAX_PAYEES},
                code="too_many_payees",
            )
        outcome = confirm_operation(
            customer=locked,
            purpose=SigningChallenge.Purpose.PAYEE,
            draft_key=draft_key,
            challenge_id=challenge_id,
            signing_code=signing_code,
            passkey_response=passkey_response,
            destination=clean,
            ip=ip,
        )
        if outcome.accepted:
            now = clock.now()
            payee = Payee.objects.create(
                customer=locked,
                bank_code=clean.bank_code,
                branch_code=clean.branch_code,
                account_type=clean.account_type,
                account_number=clean.account_number,
                name_kana=clean.name_kana,
                nickname=nickname[:20],
                registered_at=now,
            )
            record(
                "banking.payee.registered",
                customer_id=locked.pk,
                ip=ip,
                payee_id=payee.pk,
                bank_code=payee.bank_code,
                branch_code=payee.branch_code,
                account_number=payee.account_number,
            )
            notices.payee_notice(payee, registered=True, at=now)
        else:
            rejected = str(outcome.message)
    if rejected is not None:
        raise SigningRejectedError(rejected)
    return payee


def payee_delete(*, customer: Customer, payee_id: int, ip: str | None = None) -> None:
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        payee = Payee.objects.filter(pk=payee_id, customer=locked).first()
        if payee is None:
            raise BankingError(_("登録先が見つかりません。"), code="no_such_payee")
        record(
            "banking.payee.deleted",
            customer_id=locked.pk,
            ip=ip,
            payee_id=payee.pk,
            bank_code=payee.bank_code,
            branch_code=payee.branch_code,
            account_number=payee.account_number,
        )
        notices.payee_notice(payee, registered=False, at=clock.now())
        payee.delete()


def payee_seed(*, customer: Customer, destination: Destination, nickname: str = "") -> Payee:
    """Register a payee without a signing code: the demo seed and branch-side
    registration only, never reachable from a customer screen."""
    with transaction.atomic():
        payee, created = Payee.objects.get_or_create(
            customer=customer,
            bank_code=destination.bank_code,
            branch_code=destination.branch_code,
            account_type=destination.account_type,
            account_number=destination.account_number,
            defaults={
                "name_kana": destination.name_kana,
                "nickname": nickname,
                "registered_at": clock.now(),
            },
        )
        if created:
            record(
                "banking.payee.registered",
                customer_id=customer.pk,
                payee_id=payee.pk,
                channel="branch",
                bank_code=payee.bank_code,
                branch_code=payee.branch_code,
                account_number=payee.account_number,
            )
    return payee
