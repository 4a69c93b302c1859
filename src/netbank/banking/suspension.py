"""Transfers in a helpdesk suspension (緊急利用停止).

Called with the customer's row already locked by the caller, inside its transaction
(the same lock ``transfer_execute`` and the scheduled run take first), so no transfer
of this customer can be executing, and none can start until the suspension commits;
after that, ``_check_active`` refuses them.

Every 振込予約 still waiting is cancelled (a fraudster's booking must not run after a
lift), with the same notice a customer's own cancellation sends, and every unused
transaction-signing challenge expires, so no code the fraudster may hold matches
anything afterwards.
"""

from __future__ import annotations

from django.db.models import Q

from netbank import clock
from netbank.audit.services import record
from netbank.banking import notices
from netbank.banking.models import SigningChallenge, Transfer
from netbank.customers.models import Customer


def transfers_void_for_suspension(
    *, customer: Customer, operator_id: int | None, ip: str | None
) -> dict[str, int]:
    """Suspension step: cancel scheduled transfers, expire open signing challenges."""
    now = clock.now()
    cancelled = 0
    for transfer in (
        Transfer.objects.select_for_update()
        .select_related("customer", "from_account")
        .filter(customer=customer, state=Transfer.State.SCHEDULED)
        .order_by("scheduled_for", "pk")
    ):
        transfer.state = Transfer.State.CANCELLED
        transfer.cancelled_at = now
        transfer.save(update_fields=["state", "cancelled_at"])
        record(
            "banking.transfer.cancelled",
            customer_id=customer.pk,
            operator_id=operator_id,
            ip=ip,
            transfer_id=transfer.pk,
            kind=transfer.kind,
            amount=transfer.amount,
            scheduled_for=transfer.scheduled_for.isoformat() if transfer.scheduled_for else None,
            reason="suspended",
        )
        notices.transfer_cancelled_notice(transfer)
        cancelled += 1
    expired = SigningChallenge.objects.filter(
        Q(customer=customer) & Q(used_at__isnull=True) & Q(expires_at__gt=now)
    ).update(expires_at=now)
    return {"scheduled_transfers_cancelled": cancelled, "signing_challenges_expired": expired}
