"""Tokens and Direct-login URLs in a helpdesk suspension, lift or token reset.

Called with the customer's row already locked by the caller (``customers.suspension``
or the helpdesk), inside its transaction; token rows are locked after it, the same
order every token service uses, so these never deadlock with a 利用開始 or an issue.

- Suspension: the token in use becomes ``suspended`` (it can be resumed at the lift);
  an issue still waiting for its app (``issued``/``activated``) is voided, since it may
  be the fraudster's own phone; unused Direct-login URLs are voided.
- Lift: the suspended token goes back in use, or is revoked when the customer's phone
  is lost or not trusted (the customer then issues a new token, as the leaflet shows).
- Token reset (lost phone): every token in use, suspended or pending ends; login asks
  for ID and password only until the customer's new token reaches 利用開始.
"""

from __future__ import annotations

from django.db.models import Q

from netbank import clock
from netbank.audit.services import record
from netbank.customers.models import Customer
from netbank.otp.models import DirectLoginTicket, Token
from netbank.otp.tokens.services import PENDING_STATES

_SECRET_FIELDS = {
    "activation_key_id": "",
    "activation_nonce": None,
    "activation_ciphertext": None,
    "secret_key_id": "",
    "secret_nonce": None,
    "secret_ciphertext": None,
}


def _end(token: Token, *, state: str, event: str, operator_id: int | None, reason: str) -> None:
    token.state = state
    token.ended_at = clock.now()
    # A token that can never be used again keeps no secret.
    for name, value in _SECRET_FIELDS.items():
        setattr(token, name, value)
    token.save()
    record(
        event,
        customer_id=token.customer_id,
        operator_id=operator_id,
        token_id=token.pk,
        user_id=token.user_id,
        reason=reason,
    )


def tokens_suspend(
    *, customer: Customer, operator_id: int | None, ip: str | None
) -> dict[str, int]:
    """Suspension step: suspend the token in use, void pending issues."""
    suspended = voided = 0
    for token in Token.objects.select_for_update().filter(
        customer=customer, state__in=(Token.State.IN_USE, *PENDING_STATES)
    ):
        if token.state == Token.State.IN_USE:
            token.state = Token.State.SUSPENDED
            token.save(update_fields=["state"])
            record(
                "token.suspended",
                customer_id=customer.pk,
                operator_id=operator_id,
                ip=ip,
                token_id=token.pk,
                user_id=token.user_id,
            )
            suspended += 1
        else:
            _end(
                token,
                state=Token.State.VOIDED,
                event="token.voided",
                operator_id=operator_id,
                reason="suspended",
            )
            voided += 1
    return {"tokens_suspended": suspended, "token_issues_voided": voided}


def direct_login_void(
    *, customer: Customer, operator_id: int | None, ip: str | None
) -> dict[str, int]:
    """Suspension step: every unused Direct-login URL of the customer stops working now.

    (A URL made before the suspension would be refused anyway, since it carries the old
    security counter; voiding it says so in the data and in the trail.)
    """
    now = clock.now()
    voided = DirectLoginTicket.objects.filter(
        customer=customer, used_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    if voided:
        record(
            "direct_login.urls_voided",
            customer_id=customer.pk,
            operator_id=operator_id,
            ip=ip,
            count=voided,
        )
    return {"direct_login_urls_voided": voided}


def tokens_resume(*, customer: Customer, operator_id: int) -> int:
    """Lift: the suspended token is in use again (OTP at login as before)."""
    resumed = 0
    for token in Token.objects.select_for_update().filter(
        customer=customer, state=Token.State.SUSPENDED
    ):
        token.state = Token.State.IN_USE
        token.save(update_fields=["state"])
        record(
            "token.resumed",
            customer_id=customer.pk,
            operator_id=operator_id,
            token_id=token.pk,
            user_id=token.user_id,
        )
        resumed += 1
    return resumed


def _resettable(customer: Customer) -> Q:
    return Q(customer=customer) & Q(
        state__in=(Token.State.IN_USE, Token.State.SUSPENDED, *PENDING_STATES)
    )


def tokens_resettable(*, customer: Customer) -> int:
    """How many tokens a token reset would end."""
    return Token.objects.filter(_resettable(customer)).count()


def tokens_revoke(*, customer: Customer, operator_id: int, reason: str) -> int:
    """Token reset (lost phone) or a lift without the old token: end every token that is
    in use, suspended or waiting for its app. Returns how many ended."""
    ended = 0
    for token in Token.objects.select_for_update().filter(_resettable(customer)):
        revoked = token.state in (Token.State.IN_USE, Token.State.SUSPENDED)
        _end(
            token,
            state=Token.State.REVOKED if revoked else Token.State.VOIDED,
            event="token.revoked" if revoked else "token.voided",
            operator_id=operator_id,
            reason=reason,
        )
        ended += 1
    return ended


def token_mail_pending(*, customer: Customer) -> Token | None:
    """The issue whose token mail the helpdesk may send again: issued, not yet set up
    in the app, not expired."""
    return (
        Token.objects.filter(
            customer=customer,
            kind=Token.Kind.APP,
            state=Token.State.ISSUED,
            expires_at__gt=clock.now(),
        )
        .order_by("-created_at")
        .first()
    )
