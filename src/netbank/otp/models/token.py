"""A customer's soft tokens: the lifecycle of one token issue."""

from __future__ import annotations

from django.db import models

from netbank.customers.models import Customer


class Token(models.Model):
    """One soft token issued to a customer.

    issued (mail sent, waiting for the app) → activated (the app holds the key)
    → in_use (利用開始 done; OTP required at login) → suspended / revoked.
    An issue that is never set up ends as ``voided`` (5 wrong activation tries)
    or ``expired``. A re-issue creates a new row; the old token stays in use until
    the new one reaches 利用開始, then it is revoked.
    """

    class State(models.TextChoices):
        ISSUED = "issued", "issued"
        ACTIVATED = "activated", "activated"
        IN_USE = "in_use", "in_use"
        SUSPENDED = "suspended", "suspended"
        REVOKED = "revoked", "revoked"
        VOIDED = "voided", "voided"
        EXPIRED = "expired", "expired"

    class Kind(models.TextChoices):
        APP = "app", "app"  # the bank's token app, activated over the app protocol
        AUTHENTICATOR = "authenticator", "authenticator"  # a standard app via otpauth://

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tokens")
    # ユーザID: random 12 digits, unique, never the login ID.
    user_id = models.CharField(max_length=12, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.APP)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ISSUED)
    email = models.EmailField(max_length=254)  # 送付先メールアドレス (the phone's)
    algorithm = models.CharField(max_length=8, default="SHA1")
    digits = models.PositiveSmallIntegerField(default=6)
    period = models.PositiveSmallIntegerField(default=30)

    # OTP seed and transaction-signing key, sealed together with AES-GCM
    # (otp.crypto); AAD binds the row to this token id and customer.
    secret_key_id = models.CharField(max_length=32, blank=True)
    secret_nonce = models.BinaryField(null=True, blank=True)
    secret_ciphertext = models.BinaryField(null=True, blank=True)

    # 利用開始パスワード, sealed the same way, only until activation or expiry.
    activation_key_id = models.CharField(max_length=32, blank=True)
    activation_nonce = models.BinaryField(null=True, blank=True)
    activation_ciphertext = models.BinaryField(null=True, blank=True)
    activation_failures = models.PositiveSmallIntegerField(default=0)
    # Hash of the accepted activation transcript, so a lost answer can be replayed.
    activation_transcript_hash = models.BinaryField(null=True, blank=True)

    # Replay guard and drift: the last accepted time step, and the device's offset.
    last_step = models.BigIntegerField(default=-1)
    drift_steps = models.SmallIntegerField(default=0)

    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_by"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    activated_at = models.DateTimeField(null=True, blank=True)
    in_use_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "state"], name="token_customer_state_idx")]

    def __str__(self) -> str:
        return f"token {self.user_id} ({self.state})"
