"""振込限度額: the daily total of 振込 a customer allows, lowered freely, raised only
with a signing code (and never by a customer who cannot sign)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from netbank import clock
from netbank.audit.services import record
from netbank.banking import notices
from netbank.banking.business_days import today_jst
from netbank.banking.conf import int_setting
from netbank.banking.confirmation import (
    check_new_credential_hold,
    confirm_capability,
    confirm_operation,
)
from netbank.banking.errors import BankingError, SigningRejectedError, SigningRequiredError
from netbank.banking.models import SigningChallenge, TransferLimit
from netbank.banking.selectors import daily_used
from netbank.customers.models import Customer


@dataclass(frozen=True)
class LimitView:
    """What the 振込限度額 screen shows."""

    daily_limit: int  # what the customer set
    effective: int  # what applies (capped for customers who cannot sign)
    used_today: int
    can_sign: bool

    @property
    def remaining_today(self) -> int:
        return max(0, self.effective - self.used_today)


def daily_limit(customer: Customer) -> int:
    row = TransferLimit.objects.filter(customer=customer).first()
    return row.daily_limit if row is not None else int_setting("default_daily_limit")


def effective_daily_limit(customer: Customer) -> int:
    limit = daily_limit(customer)
    if not confirm_capability(customer).can_sign:
        limit = min(limit, int_setting("unsigned_daily_limit"))
    return limit


def limit_view(customer: Customer) -> LimitView:
    return LimitView(
        daily_limit=daily_limit(customer),
        effective=effective_daily_limit(customer),
        used_today=daily_used(customer, today_jst()),
        can_sign=confirm_capability(customer).can_sign,
    )


def limit_needs_signing(customer: Customer, new_limit: int) -> bool:
    return new_limit > daily_limit(customer)


def validate_new_limit(new_limit: int) -> None:
    maximum = int_setting("max_daily_limit")
    if isinstance(new_limit, bool) or not isinstance(new_limit, int) or new_limit < 0:
        raise BankingError(_("振込限度額は0円以上の金額で入力してください。"), code="bad_limit")
    if new_limit > maximum:
        raise BankingError(
            _("振込限度額は%(max)s円以下で入力してください。") % {"max": f"{maximum:,}"},
            code="bad_limit",
        )


def limit_change(
    *,
    customer: Customer,
    new_limit: int,
    challenge_id: int | None = None,
    signing_code: str | None = None,
    ip: str | None = None,
    draft_key: str = "",
    passkey_response: dict[str, Any] | None = None,
) -> TransferLimit:
    """Set the daily limit. Lowering (or keeping) it needs nothing more; raising it
    needs a signing code over the new limit (or the customer's passkey over the same
    operation and ``draft_key``), after the hold after a token issue or passkey
    registration."""
    validate_new_limit(new_limit)
    rejected: str | None = None
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.status != Customer.Status.ACTIVE:
            raise BankingError(_("現在お取引を停止しています。"), code="customer_not_active")
        old = daily_limit(locked)
        raising = new_limit > old
        if raising:
            capability = confirm_capability(locked)
            if not capability.can_sign:
                raise SigningRequiredError(capability.reason)
            check_new_credential_hold(locked)
            outcome = confirm_operation(
                customer=locked,
                purpose=SigningChallenge.Purpose.LIMIT,
                draft_key=draft_key,
                challenge_id=challenge_id,
                signing_code=signing_code,
                passkey_response=passkey_response,
                amount=new_limit,
                ip=ip,
            )
            if not outcome.accepted:
                rejected = str(outcome.message)
        if rejected is None:
            now = clock.now()
            row, _created = TransferLimit.objects.update_or_create(
                customer=locked, defaults={"daily_limit": new_limit, "updated_at": now}
            )
            record(
                "banking.limit.changed",
                customer_id=locked.pk,
                ip=ip,
                old=old,
                new=new_limit,
                signed=raising,
            )
            notices.limit_notice(locked, old=old, new=new_limit, at=now)
    if rejected is not None:
        raise SigningRejectedError(rejected)
    return row
