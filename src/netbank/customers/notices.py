"""Security notices to the customer's registered address."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from netbank.customers.models import Customer, FailureCounter
from netbank.notifications.services import mail_enqueue

KIND_LABELS = {
    "login_password": "ログインパスワード",
    "otp": "ワンタイムパスワード",
    "transaction_password": "確認用パスワード",
    "secret_answer": "追加認証の回答",
    "signing_code": "取引認証番号",
}


def lock_notice_enqueue(*, customer: Customer, kind: str, counter: FailureCounter) -> None:
    with translation.override("ja"):
        body = render_to_string(
            "customers/mail/lock_notice.txt",
            {
                "customer": customer,
                "kind_label": KIND_LABELS.get(kind, kind),
                "permanent": counter.permanently_locked,
                "until": timezone.localtime(counter.locked_until) if counter.locked_until else None,
                "bank_name": settings.NETBANK_BANK_NAME,
                "helpdesk": settings.NETBANK_HELPDESK,
            },
        )
    mail_enqueue(
        to=customer.email,
        subject=f"【{settings.NETBANK_BANK_NAME}】{KIND_LABELS.get(kind, kind)}のロックについて",
        body=body,
        purpose="lock_notice",
        from_addr=settings.NETBANK_NOTICE_FROM,
    )
