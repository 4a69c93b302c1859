"""Security notices to the customer's registered address."""

from __future__ import annotations

from django.utils import timezone

from netbank.customers.models import Customer, FailureCounter
from netbank.notifications.services import notice_enqueue

KIND_LABELS = {
    "login_password": "ログインパスワード",
    "otp": "ワンタイムパスワード",
    "transaction_password": "確認用パスワード",
    "secret_answer": "追加認証の回答",
    "signing_code": "取引認証番号",
}


def lock_notice_enqueue(*, customer: Customer, kind: str, counter: FailureCounter) -> None:
    notice_enqueue(
        to=customer.email,
        subject=f"{KIND_LABELS.get(kind, kind)}のロックについて",
        template="customers/mail/lock_notice.txt",
        context={
            "customer": customer,
            "kind_label": KIND_LABELS.get(kind, kind),
            "permanent": counter.permanently_locked,
            "until": timezone.localtime(counter.locked_until) if counter.locked_until else None,
        },
        purpose="lock_notice",
    )
