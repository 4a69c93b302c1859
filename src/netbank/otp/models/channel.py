"""API keys of the bank's other channels (telephone banking, branch systems, …)."""

from __future__ import annotations

from django.db import models


class ChannelApiKey(models.Model):
    """One channel's key for the OTP verification API.

    The key itself (256 random bits) is shown once when it is created; only its
    SHA-256 is stored, which is enough for a key that cannot be guessed, and lets a
    request find its row with one indexed lookup. ``name`` is the channel's name: it
    appears as the channel in every audit record of its calls and keys its rate limit.
    A revoked key stays as a record; the channel may then get a new key under the same
    name (at most one active key per name).
    """

    name = models.CharField(max_length=32)
    key_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the key, to tell keys apart in `netbank channel-keys list`.
    key_prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_key_per_channel",
            ),
        ]

    def __str__(self) -> str:
        return f"channel {self.name}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None
