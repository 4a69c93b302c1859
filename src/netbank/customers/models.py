from __future__ import annotations

from django.db import models


class Customer(models.Model):
    """A banking customer. Deliberately not Django's auth user: operators are
    ``django.contrib.auth`` users, so no customer session can ever reach the
    operator console, and no operator account can log in to a customer's bank.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        SUSPENDED = "suspended", "suspended"

    login_id = models.CharField(max_length=12, unique=True)
    name_kanji = models.CharField(max_length=60)
    name_kana = models.CharField(max_length=60)
    email = models.EmailField(max_length=254)
    password_hash = models.CharField(max_length=255)
    transaction_password_hash = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # Bumped on suspension or a credential change: every session that carries an
    # older value ends on its next request, on every app process.
    security_counter = models.PositiveIntegerField(default=0)
    # The 追加認証 question asked until it is answered correctly (its position), so
    # reloading a page or starting a new session cannot re-roll to an easier question.
    challenge_position = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.login_id


class SecretQuestion(models.Model):
    """追加認証: a question and its answer, stored hashed (normalised first)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    question = models.CharField(max_length=100)
    answer_hash = models.CharField(max_length=255)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "position"], name="one_question_per_slot"),
        ]

    def __str__(self) -> str:
        return self.question


class FailureCounter(models.Model):
    """Consecutive failures of one credential kind for one subject, and its locks.

    ``subject`` is ``customer:<id>`` for a known customer, or ``login_id:<digest>``
    for a login ID that does not exist, so a lock message reveals nothing.
    """

    kind = models.CharField(max_length=32)
    subject = models.CharField(max_length=100)
    consecutive_failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    permanently_locked = models.BooleanField(default=False)
    # Times of the locks in the current window, newest last (ISO strings).
    recent_locks = models.JSONField(default=list, blank=True)
    lock_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"], name="one_counter_per_kind_subject"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject}"


class ThrottleBucket(models.Model):
    """Requests per key in a fixed time window (per-IP throttling)."""

    key = models.CharField(max_length=120)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="one_bucket_per_window"),
        ]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start}"


class LoginRecovery(models.Model):
    """A helpdesk-approved exception to a login policy (``customers.login_policy``): the
    customer's next login may use ID + password + OTP although the bank requires a
    stronger factor (a passkey) of them. Granted after a verified identity check, used
    once (consumed with a conditional UPDATE when the password is accepted), and it
    expires. Operators are ``auth`` users; their id is kept as a number here so that
    customers depends on no console."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="login_recoveries"
    )
    granted_by_operator_id = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "used_at"], name="login_recovery_open")]

    def __str__(self) -> str:
        return f"login recovery {self.pk} of customer {self.customer_id}"
