"""Round one of an activation, remembered so round two can run on any app process."""

from __future__ import annotations

from django.db import models


class ActivationSession(models.Model):
    """One signed round-one answer for one token issue.

    The bank's ephemeral X25519 private key is sealed (otp.crypto, purpose
    "activation-ephemeral") until the issue is activated, voided or expired. After a
    successful finish the row keeps only a digest of the accepted proof and the
    confirmation MAC, so a lost answer can be replayed without any key material. Each
    wrong proof's digest is kept too, so a resent wrong proof is not counted twice.
    """

    token = models.ForeignKey(
        "otp.Token", on_delete=models.CASCADE, related_name="activation_sessions"
    )
    # Random 16 bytes, base64url: names the transcript in round two.
    transcript_id = models.CharField(max_length=32, unique=True)
    # The canonical transcript bytes that were signed (netbank.oath.activation.Transcript).
    transcript = models.BinaryField()
    app_public_key = models.BinaryField()

    ephemeral_key_id = models.CharField(max_length=32, blank=True)
    ephemeral_nonce = models.BinaryField(null=True, blank=True)
    ephemeral_ciphertext = models.BinaryField(null=True, blank=True)

    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    # SHA-256 of the accepted proof, and the confirmation MAC sent back for it.
    proof_digest = models.BinaryField(null=True, blank=True)
    confirmation = models.BinaryField(null=True, blank=True)
    # SHA-256 digests (32 bytes each, concatenated) of the wrong proofs already counted in
    # this session: the client resends the very same body after a network error or a 5xx,
    # and a resend is the same guess, so it gets the same refusal without counting again.
    failed_proof_digests = models.BinaryField(default=b"", blank=True)

    class Meta:
        indexes = [models.Index(fields=["token", "created_at"], name="activation_token_idx")]

    def __str__(self) -> str:
        return f"activation {self.transcript_id} for token {self.token_id}"
