"""Messages shown to customers about locks, with the helpdesk contact the leaflet gives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from netbank.customers import lockout
from netbank.customers.models import Customer
from netbank.web.contact import helpdesk_contact
from netbank.web.forms import form_refuse


def kind_label(kind: str) -> str:
    labels = {
        lockout.LOGIN_PASSWORD: _("ログインIDまたはログインパスワード"),
        lockout.OTP: _("ワンタイムパスワード"),
        lockout.TRANSACTION_PASSWORD: _("確認用パスワード"),
        lockout.SECRET_ANSWER: _("追加認証の回答"),
        lockout.SIGNING_CODE: _("取引認証番号"),
    }
    return labels.get(kind, kind)


def helpdesk_line() -> str:
    """The helpdesk number, voice-menu option and hours, as one sentence."""
    helpdesk: dict[str, Any] = helpdesk_contact()
    return _(
        "ヘルプデスク ☎ %(phone)s（音声ガイダンスに沿って%(option)s番をプッシュしてください。"
        "[平日] %(weekday)s [土日祝] %(holiday)s ※%(closed)sは終日、受付けておりません。）"
    ) % {
        "phone": helpdesk["phone"],
        "option": helpdesk["general_option"],
        "weekday": helpdesk["weekday_hours"],
        "holiday": helpdesk["holiday_hours"],
        "closed": helpdesk["closed_days"],
    }


def lock_message(kind: str, *, permanent: bool, until: datetime | None) -> str:
    """What a customer sees while a credential is locked; always names the helpdesk."""
    label = kind_label(kind)
    if permanent or until is None:
        head = _(
            "%(label)sを続けて誤って入力されたため、ご利用を停止しています。"
            "再開にはヘルプデスクへのご連絡が必要です。"
        ) % {"label": label}
    else:
        head = _(
            "%(label)sを続けて誤って入力されたため、ご利用を一時的に停止しています。"
            "%(until)s以降に、もう一度お試しください。"
        ) % {
            "label": label,
            "until": date_format(timezone.localtime(until), "DATETIME_FORMAT"),
        }
    return f"{head} {helpdesk_line()}"


def customer_lock_message(customer: Customer, kind: str) -> str | None:
    """The lock message when the customer's ``kind`` credential is locked now, else None."""
    status = lockout.lockout_status(kind=kind, subject=lockout.subject_for_customer(customer))
    if not status.locked:
        return None
    return lock_message(kind, permanent=status.permanent, until=status.until)


def form_refuse_if_locked(form: Any, customer: Customer, *kinds: str) -> bool:
    """Turn ``form`` into the lock screen when one of ``kinds`` is locked for the
    customer (the first locked kind's message; the form disabled). True when locked."""
    for kind in kinds:
        message = customer_lock_message(customer, kind)
        if message is not None:
            form_refuse(form, message, disable=True)
            return True
    return False
