"""Login policies of other apps, and the helpdesk's way through them.

``customers`` imports no other domain app, so an app that must refuse a kind of login
(``passkeys``: with ``NETBANK_PASSKEY_REQUIRED``, a customer who has a passkey may not
log in with ID + password + OTP) registers a *login gate* here from its
``AppConfig.ready``. ``login_check_password`` (web login and Directログイン share it) runs
every gate once the password has been accepted, inside its transaction; the first gate
that answers a message refuses the login with that message.

A gate may let the login through on a **login recovery**: a single-use, expiring
exception that the helpdesk grants after a verified identity check
(``login_recovery_grant``, audited), consumed here with one conditional UPDATE, so it
lets exactly one login through on any number of app nodes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from django.db import transaction

from netbank import clock
from netbank.audit.services import record
from netbank.customers.models import Customer, LoginRecovery

# How long a granted recovery waits for the customer's login.
RECOVERY_SECONDS = 24 * 60 * 60


class LoginGate(Protocol):
    def __call__(self, *, customer: Customer, channel: str, ip: str | None) -> str | None:
        """None lets the login go on; a message refuses it (the gate audits why)."""
        ...


_gates: list[LoginGate] = []


def login_gate_register(gate: LoginGate) -> None:
    """Run ``gate`` at every login from now on (idempotent)."""
    if gate not in _gates:
        _gates.append(gate)


def login_gates_check(*, customer: Customer, channel: str, ip: str | None) -> str | None:
    """The first refusal of a registered gate, or None."""
    for gate in _gates:
        message = gate(customer=customer, channel=channel, ip=ip)
        if message is not None:
            return message
    return None


def login_recovery_grant(
    *, customer: Customer, operator_id: int, seconds: int = RECOVERY_SECONDS
) -> LoginRecovery:
    """Let the customer's next login through the gates once (the helpdesk's action,
    which audits it with its identity check). A grant still open is replaced."""
    now = clock.now()
    with transaction.atomic():
        LoginRecovery.objects.filter(
            customer=customer, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        return LoginRecovery.objects.create(
            customer=customer,
            granted_by_operator_id=operator_id,
            created_at=now,
            expires_at=now + timedelta(seconds=seconds),
        )


def login_recovery_pending(customer: Customer) -> LoginRecovery | None:
    return (
        LoginRecovery.objects.filter(
            customer=customer,
            used_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=clock.now(),
        )
        .order_by("-pk")
        .first()
    )


def login_recovery_consume(*, customer: Customer, ip: str | None, channel: str) -> bool:
    """Use the customer's open recovery, if any: True for exactly one caller."""
    grant = login_recovery_pending(customer)
    if grant is None:
        return False
    now = clock.now()
    used = LoginRecovery.objects.filter(
        pk=grant.pk, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if not used:
        return False
    record(
        "login.recovery_used",
        customer_id=customer.pk,
        ip=ip,
        channel=channel,
        recovery_id=grant.pk,
        granted_by=grant.granted_by_operator_id,
    )
    return True
