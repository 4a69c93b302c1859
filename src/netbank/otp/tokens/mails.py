"""The OTP journey's mails: the token mail to the phone and the notices to the
customer's registered address. Each is queued (outbox) inside the transaction of the
change it reports; the delivery worker sends it after commit.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from netbank import clock
from netbank.customers.models import Customer
from netbank.notifications.services import mail_enqueue, notice_enqueue
from netbank.otp.activation.install import current_bank_key
from netbank.otp.models import Token
from netbank.otp.tokens.hold import token_hold_until

PURPOSE_TOKEN_MAIL = "otp_token_mail"  # noqa: S105 - a mail purpose, not a secret
PURPOSE_ISSUE_NOTICE = "otp_issue_notice"
PURPOSE_START_USE_NOTICE = "otp_start_use_notice"
PURPOSE_CANCEL_NOTICE = "otp_cancel_notice"


def app_download_url() -> str:
    base = str(settings.NETBANK_PUBLIC_URL).rstrip("/")
    path = str(settings.NETBANK_OTP["app_download_path"])
    return base + (path if path.startswith("/") else "/" + path)


def mask_address(address: str) -> str:
    """Enough of an address for the customer to recognise it, not to harvest it."""
    local, sep, domain = address.partition("@")
    if not sep:
        return "***"
    return f"{local[:2]}***@{domain}"


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "bank_name": settings.NETBANK_BANK_NAME,
        "helpdesk": settings.NETBANK_HELPDESK,
        "service_id": settings.NETBANK_OTP["service_id"],
        "now": timezone.localtime(clock.now()),
        **extra,
    }


def _render(template: str, **extra: Any) -> str:
    # Mails are Japanese whatever language the screen was in (the leaflet's sample).
    with translation.override("ja"):
        return render_to_string(template, _context(**extra))


def token_mail_enqueue(*, token: Token, smartphone: bool = False) -> None:
    """The leaflet's mail to the phone: サービスID, ユーザID and the app download URL.

    From the send-only OTP-service address; the 利用開始パスワード is never in it.
    ``smartphone``: applied for on SLI012, whose part of the leaflet says スマートフォン
    where the PC part says 携帯電話.
    """
    body = _render(
        "otp/mail/token_mail.txt",
        token=token,
        smartphone=smartphone,
        download_url=app_download_url(),
        expires_at=timezone.localtime(token.expires_at),
        key_fingerprint=current_bank_key().fingerprint,
    )
    mail_enqueue(
        to=token.email,
        subject=f"{settings.NETBANK_BANK_NAME}からのお知らせ",
        body=body,
        purpose=PURPOSE_TOKEN_MAIL,
        from_addr=settings.NETBANK_MAIL_FROM,
    )


def issue_notice_enqueue(*, customer: Customer, token: Token, reissue: bool) -> None:
    """Notice to the registered address at every issue and re-issue: the independent
    channel that warns a customer whose passwords were phished."""
    what = "トークン再発行" if reissue else "トークン発行"
    notice_enqueue(
        to=customer.email,
        subject=f"{what}のお手続きについて",
        template="otp/mail/issue_notice.txt",
        context=_context(
            customer=customer,
            token=token,
            reissue=reissue,
            authenticator=token.kind == Token.Kind.AUTHENTICATOR,
            masked_email=mask_address(token.email) if token.email else "",
            created_at=timezone.localtime(token.created_at),
            hold_until=token_hold_until(token),
        ),
        purpose=PURPOSE_ISSUE_NOTICE,
    )


def start_use_notice_enqueue(*, customer: Customer, token: Token) -> None:
    notice_enqueue(
        to=customer.email,
        subject="ワンタイムパスワードの利用開始について",
        template="otp/mail/start_use_notice.txt",
        context=_context(
            customer=customer,
            token=token,
            replaced=token.replaces_id is not None,
            in_use_at=timezone.localtime(token.in_use_at or clock.now()),
        ),
        purpose=PURPOSE_START_USE_NOTICE,
    )


def cancel_notice_enqueue(*, customer: Customer) -> None:
    notice_enqueue(
        to=customer.email,
        subject="ワンタイムパスワードの利用解除について",
        template="otp/mail/cancel_notice.txt",
        context=_context(customer=customer),
        purpose=PURPOSE_CANCEL_NOTICE,
    )
