"""Passkeys, the customer's WebAuthn user handle, and single-use challenges."""

from __future__ import annotations

from django.db import models

from netbank.customers.models import Customer

NAME_MAX = 30


class PasskeyUser(models.Model):
    """The customer as authenticators know them: 32 random bytes, never the ログインID
    (a synced passkey carries its user handle to other devices and providers)."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="+")
    user_handle = models.BinaryField(max_length=32, unique=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"passkey user of customer {self.customer_id}"


class Passkey(models.Model):
    """One registered credential. Removed passkeys keep their row (``revoked_at``) for
    the trail; only rows without it are accepted or listed."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    credential_id = models.BinaryField(max_length=1023, unique=True)
    # COSE_Key as the authenticator gave it.
    public_key = models.BinaryField()
    # The authenticator's signature counter; 0 for authenticators that do not count.
    sign_count = models.BigIntegerField(default=0)
    aaguid = models.CharField(max_length=36, blank=True)
    transports = models.JSONField(default=list)
    # Backup eligible: a synced passkey (同期パスキー), else bound to one device.
    backup_eligible = models.BooleanField(default=False)
    backup_state = models.BooleanField(default=False)
    # Registered for Secure Payment Confirmation: passkey.js asked for the "payment"
    # extension at create() on a browser that offers SPC. Browsers give no client
    # extension output for it and the authenticator data carries no trace of it, so
    # this records that it was asked on such a browser (what the page reports), not a
    # proof. It is only a hint of which credentials to offer to the browser's SPC
    # dialog: every assertion, payment.get or webauthn.get, is verified in full, and a
    # wrong hint only makes the dialog fail, where passkey_confirm.js falls back to
    # the plain WebAuthn get.
    payment = models.BooleanField(default=False)
    name = models.CharField(max_length=NAME_MAX)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # "customer" (removed on 各種お申込・手続き) or "operator:<auth user id>" (helpdesk).
    revoked_by = models.CharField(max_length=40, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.name} (customer {self.customer_id})"

    @property
    def synced(self) -> bool:
        return self.backup_eligible


class PasskeyChallenge(models.Model):
    """A WebAuthn challenge, good once and for 5 minutes.

    ``challenge`` is the random part; ``sent`` is what the browser signs (the same bytes
    for registration and login; for a confirmation the SHA-256 that binds the random
    part to the operation's digest). Consumed with a conditional UPDATE
    (``used_at IS NULL AND expires_at > now``), so of two requests with one assertion
    exactly one wins.
    """

    class Purpose(models.TextChoices):
        REGISTER = "register", "register"
        LOGIN = "login", "login"
        CONFIRM = "confirm", "confirm"

    challenge = models.BinaryField(max_length=32)
    sent = models.BinaryField(max_length=32, unique=True)
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    operation_digest = models.BinaryField(max_length=32, null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} challenge {self.pk}"
