"""Operator credentials, identity checks and four-eyes 利用再開 requests.

Operators are ``django.contrib.auth`` users (docs/architecture.md); their role is
their group (``helpdesk_operator`` or ``helpdesk_supervisor``, made by a migration).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from netbank.otp import crypto


class OperatorCredential(models.Model):
    """An operator's second factor (TOTP) and login lockout.

    The seed is sealed with AES-GCM under the bank's key-encryption keys (the same
    keyring as customers' token seeds), with AAD naming this row and the operator,
    so a sealed seed copied onto another operator does not open.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpdesk_credential"
    )
    secret_key_id = models.CharField(max_length=32)
    secret_nonce = models.BinaryField()
    secret_ciphertext = models.BinaryField()
    # Replay guard: the last accepted time step.
    last_step = models.BigIntegerField(default=-1)
    consecutive_failures = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    enrolled_at = models.DateTimeField()
    # Set at the first login whose OTP passed: the operator's app holds the seed.
    confirmed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"credential of operator {self.user_id}"

    @classmethod
    def sealed_columns(cls) -> tuple[crypto.SealedColumn, ...]:
        """The sealed seed, for the key rotation (``netbank rotate-otp-key --all``)."""
        return (
            crypto.SealedColumn(
                "operator seeds", cls, "secret", lambda c: operator_seed_aad(c.user_id)
            ),
        )


def operator_seed_aad(user_id: int) -> bytes:
    """The AAD an operator's seed is sealed under: it opens for this operator only."""
    return f"netbank-helpdesk|operator-seed|user={user_id}".encode()


class IdentityCheck(models.Model):
    """What the operator did to make sure the caller is the customer (docs/helpdesk.md).

    Recorded for every action that needs one, whatever the result: a failed check is
    evidence too. ``note`` is the operator's words and must hold no secret (the form
    says so); secret answers are checked by the system and never stored.
    """

    class Method(models.TextChoices):
        CALLBACK = "callback", _("登録電話番号への折り返し電話")
        BRANCH = "branch", _("窓口での本人確認書類")

    class Result(models.TextChoices):
        VERIFIED = "verified", _("本人確認済み")
        FAILED = "failed", _("本人確認できず")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="identity_checks"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="identity_checks"
    )
    purpose = models.CharField(max_length=32)
    method = models.CharField(max_length=16, choices=Method.choices)
    # The items the caller answered correctly (keys of forms.IDENTITY_ITEMS).
    items = models.JSONField(default=list)
    # None: no secret question was asked; True/False: the system's verdict.
    secret_answer_ok = models.BooleanField(null=True, blank=True)
    result = models.CharField(max_length=16, choices=Result.choices)
    note = models.CharField(max_length=500)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["customer", "created_at"], name="idcheck_customer_idx")]

    def __str__(self) -> str:
        return f"identity check {self.pk} ({self.result})"


class LiftRequest(models.Model):
    """利用再開: asked by one operator, approved or rejected by a different supervisor."""

    class State(models.TextChoices):
        PENDING = "pending", _("承認待ち")
        APPROVED = "approved", _("承認済み")
        REJECTED = "rejected", _("却下")
        WITHDRAWN = "withdrawn", _("取下げ")

    class TokenAction(models.TextChoices):
        RESUME = "resume", _("現在のトークンの利用を再開する")
        REVOKE = "revoke", _("トークンを失効させる（お客さまが再発行）")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="lift_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    reason = models.CharField(max_length=500)
    identity_check = models.ForeignKey(IdentityCheck, on_delete=models.PROTECT, related_name="+")
    token_action = models.CharField(max_length=16, choices=TokenAction.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            # Four eyes, enforced by the database as well as by the service.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="lift_decided_by_another_operator",
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(state="pending"),
                name="one_pending_lift_per_customer",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["approved", "rejected"])
                | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="lift_decision_has_decider",
            ),
        ]

    def __str__(self) -> str:
        return f"lift request {self.pk} ({self.state})"
