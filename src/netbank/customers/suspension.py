"""緊急利用停止 (emergency suspension) and 利用再開 (lifting it): the customer's part.

Suspending sets the customer's status to SUSPENDED and bumps the security counter in
one transaction, under the customer's row lock (the same lock every token change and
transfer takes first). ``CustomerSessionMiddleware`` reads both from the database on
every request, so every session of the customer ends on its next request on every app
process, and a transfer waiting for the row lock finds the customer suspended.

The other apps' parts of a suspension (tokens, Direct-login URLs, scheduled transfers)
live in those apps. ``customers`` imports none of them (dependencies point one way), so
each app registers its own part here as a *suspension step* at start-up, from its own
``AppConfig.ready`` (``otp``: tokens and Direct-login URLs; ``banking``: scheduled
transfers), and the steps run inside the same transaction, in registration order
(``INSTALLED_APPS`` order), after the customer row is locked. No console app is needed
for a customer's own emergency stop to reach every app. The helpdesk console and the
customer's own emergency stop both come through ``customer_suspend``, so both do exactly
the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.db import transaction

from netbank.audit.services import record
from netbank.customers.models import Customer
from netbank.customers.services import customer_security_counter_bump

# Who asked for the suspension (stored in the audit trail).
SOURCE_HELPDESK = "helpdesk"
SOURCE_CUSTOMER_LINK = "customer_link"  # the link in a security mail
SOURCE_CUSTOMER_WEB = "customer_web"  # the page inside the bank
SOURCES = frozenset({SOURCE_HELPDESK, SOURCE_CUSTOMER_LINK, SOURCE_CUSTOMER_WEB})


class SuspensionStep(Protocol):
    """One app's part of a suspension; runs inside the suspension's transaction."""

    def __call__(
        self, *, customer: Customer, operator_id: int | None, ip: str | None
    ) -> dict[str, int]:
        """Do the app's part; return counts for the audit record (e.g. {"tokens": 1})."""
        ...


_steps: list[SuspensionStep] = []


def suspension_step_register(step: SuspensionStep) -> None:
    """Add ``step`` to every suspension from now on (idempotent)."""
    if step not in _steps:
        _steps.append(step)


def suspension_steps() -> tuple[SuspensionStep, ...]:
    return tuple(_steps)


@dataclass(frozen=True)
class SuspendOutcome:
    customer: Customer
    # False when the customer was already suspended: nothing changed, no mail.
    suspended_now: bool
    counts: dict[str, int]


def customer_suspend(
    *,
    customer: Customer,
    source: str,
    reason: str,
    operator_id: int | None = None,
    ip: str | None = None,
) -> SuspendOutcome:
    """Suspend ``customer`` at once: sessions, tokens, Direct-login URLs, scheduled
    transfers (the registered steps) and the notice mail, all in one transaction.

    Suspending a customer who is already suspended changes nothing and mails nobody
    (a customer pressing the link in two mails, or two operators at once).
    """
    if source not in SOURCES:
        raise ValueError(f"unknown suspension source {source!r}")
    # Imported here: the notice module renders templates and builds URLs.
    from netbank.customers.notices_security import suspended_notice_enqueue

    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.status == Customer.Status.SUSPENDED:
            record(
                "customer.suspend_repeated",
                customer_id=locked.pk,
                operator_id=operator_id,
                ip=ip,
                source=source,
            )
            return SuspendOutcome(locked, suspended_now=False, counts={})
        locked.status = Customer.Status.SUSPENDED
        locked.save(update_fields=["status"])
        customer_security_counter_bump(customer=locked, reason="suspended", operator_id=operator_id)
        counts: dict[str, int] = {}
        for step in _steps:
            for name, value in step(customer=locked, operator_id=operator_id, ip=ip).items():
                counts[name] = counts.get(name, 0) + value
        record(
            "customer.suspended",
            customer_id=locked.pk,
            operator_id=operator_id,
            ip=ip,
            source=source,
            reason=reason,
            **counts,
        )
        suspended_notice_enqueue(customer=locked, source=source)
    return SuspendOutcome(locked, suspended_now=True, counts=counts)


class NotSuspendedError(Exception):
    """Only a suspended customer can be reactivated."""


def customer_reactivate(*, customer: Customer, requested_by: int, approved_by: int) -> Customer:
    """利用再開: the customer may log in again. Call inside the caller's transaction,
    after the four-eyes approval (the helpdesk's ``lift_approve``).

    Sessions are not brought back (they ended for good); the customer logs in again.
    """
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.status != Customer.Status.SUSPENDED:
            raise NotSuspendedError(f"customer {locked.pk} is {locked.status}")
        locked.status = Customer.Status.ACTIVE
        locked.save(update_fields=["status"])
        record(
            "customer.reactivated",
            customer_id=locked.pk,
            operator_id=approved_by,
            requested_by=requested_by,
        )
    return locked
