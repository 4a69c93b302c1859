"""Directログイン: the single-use URL the token app opens in the browser."""

from __future__ import annotations

from django.db import models


class DirectLoginTicket(models.Model):
    """One single-use login URL, valid for at most 60 seconds.

    Only the SHA-256 of the URL's random token is stored, so the table (a backup, a
    read replica, an operator's query) never holds a usable URL. It is consumed by one
    conditional UPDATE (``used_at IS NULL AND expires_at > now``), so of two browsers
    racing with the same URL exactly one gets in, on any number of app nodes.
    """

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="direct_login_tickets"
    )
    # The token whose OTP opened it (for the audit trail and the helpdesk).
    token = models.ForeignKey("otp.Token", null=True, on_delete=models.SET_NULL, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    # The customer's security counter when it was made: a suspension or credential
    # change in the next 60 seconds makes it worthless.
    security_counter = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="direct_ticket_expires_idx")]

    def __str__(self) -> str:
        return f"direct login {self.pk} for customer {self.customer_id}"
