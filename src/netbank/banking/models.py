"""Accounts, the double-entry ledger, payees, transfers, limits and signing challenges.

Money is an integer number of yen everywhere. Every movement is one JournalEntry
whose Postings sum to zero; an account's cached ``balance`` always equals the sum of
its postings (services keep it so under row locks; selectors.ledger_check proves it).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from netbank.customers.models import Customer
from netbank.otp.models import Token


class AccountType(models.TextChoices):
    ORDINARY = "ordinary", _("普通")
    CURRENT = "current", _("当座")
    SAVINGS = "savings", _("貯蓄")


# The account-type digit of the Zengin network, also used in signing challenges.
ZENGIN_ACCOUNT_TYPE = {
    AccountType.ORDINARY: "1",
    AccountType.CURRENT: "2",
    AccountType.SAVINGS: "4",
}


class Account(models.Model):
    """A customer's deposit account, or the bank's clearing account.

    The clearing account stands in for every other bank: a 振込 to another bank
    credits it, an incoming one debits it. Its balance may go negative (it is what
    other banks owe us, net); a customer account's never may (database CHECK).
    """

    class Kind(models.TextChoices):
        CUSTOMER = "customer", "customer"
        CLEARING = "clearing", "clearing"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CUSTOMER)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    branch_code = models.CharField(max_length=3)
    account_type = models.CharField(max_length=16, choices=AccountType.choices)
    account_number = models.CharField(max_length=7)
    # 口座名義 as the network carries it (half-width katakana).
    holder_kana = models.CharField(max_length=30)
    balance = models.BigIntegerField(default=0)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["branch_code", "account_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch_code", "account_number"], name="account_number_unique_in_branch"
            ),
            models.CheckConstraint(
                condition=Q(kind="clearing") | Q(balance__gte=0),
                name="customer_account_never_overdrawn",
            ),
            models.CheckConstraint(
                condition=(Q(kind="customer") & Q(customer__isnull=False))
                | (Q(kind="clearing") & Q(customer__isnull=True)),
                name="account_kind_matches_owner",
            ),
            models.CheckConstraint(
                condition=Q(branch_code__regex=r"^[0-9]{3}$")
                & Q(account_number__regex=r"^[0-9]{7}$"),
                name="account_codes_are_digits",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch_code}-{self.get_account_type_display()}-{self.account_number}"

    @property
    def zengin_type(self) -> str:
        return ZENGIN_ACCOUNT_TYPE[AccountType(self.account_type)]


class JournalEntry(models.Model):
    """One movement of money. Its postings sum to zero."""

    class Kind(models.TextChoices):
        FURIKAE = "furikae", "furikae"  # between a customer's own accounts
        FURIKOMI = "furikomi", "furikomi"  # to another account, here or at another bank
        INCOMING = "incoming", "incoming"  # from another bank, through clearing
        DIRECT_DEBIT = "direct_debit", "direct_debit"  # 口座振替 (utilities), through clearing

    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(db_index=True)
    description = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"entry {self.pk} ({self.kind})"


class Posting(models.Model):
    """One line of a journal entry: a signed amount on one account.

    ``balance_after`` is the account's balance right after this posting, written
    under the account's row lock, so a statement needs no running sums.
    """

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    # 摘要 as the statement shows it.
    memo = models.CharField(max_length=48)
    posted_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="posting_amount_not_zero"),
        ]
        indexes = [
            models.Index(fields=["account", "posted_at", "id"], name="posting_statement_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount:+d}"


class Payee(models.Model):
    """登録先: an account the customer registered (with a signing code) for 振込."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="payees")
    bank_code = models.CharField(max_length=4)
    branch_code = models.CharField(max_length=3)
    account_type = models.CharField(max_length=16, choices=AccountType.choices)
    account_number = models.CharField(max_length=7)
    name_kana = models.CharField(max_length=30)
    nickname = models.CharField(max_length=20, blank=True)
    registered_at = models.DateTimeField()

    class Meta:
        ordering = ["registered_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "bank_code", "branch_code", "account_type", "account_number"],
                name="payee_unique_per_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bank_code}-{self.branch_code}-{self.account_number} {self.name_kana}"


class Transfer(models.Model):
    """A 振替 or 振込 the customer ordered, immediate or scheduled (振込予約).

    The destination is copied here (not only referenced through the payee), so
    the record says where the money went even if the payee is deleted later.
    """

    class Kind(models.TextChoices):
        FURIKAE = "furikae", _("振替")
        FURIKOMI = "furikomi", _("振込")

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("予約中")
        COMPLETED = "completed", _("完了")
        CANCELLED = "cancelled", _("取消済")
        FAILED = "failed", _("不成立")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="transfers")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices)
    # Random, unique: the same key submitted twice (double click, back button, a
    # replayed form, a second tab) finds this row instead of moving money again.
    idempotency_key = models.CharField(max_length=64, unique=True)
    from_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    to_account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payee = models.ForeignKey(
        Payee, null=True, blank=True, on_delete=models.SET_NULL, related_name="transfers"
    )
    bank_code = models.CharField(max_length=4)
    branch_code = models.CharField(max_length=3)
    account_type = models.CharField(max_length=16, choices=AccountType.choices)
    account_number = models.CharField(max_length=7)
    name_kana = models.CharField(max_length=30)
    amount = models.BigIntegerField()
    signed = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    scheduled_for = models.DateField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    # The Japanese calendar day it executed: what the daily limit counts.
    executed_on = models.DateField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    entry = models.OneToOneField(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="transfer"
    )
    failure_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(
                condition=~Q(state="completed") | Q(entry__isnull=False, executed_on__isnull=False),
                name="completed_transfer_has_entry",
            ),
            models.CheckConstraint(
                condition=~Q(state="scheduled") | Q(scheduled_for__isnull=False),
                name="scheduled_transfer_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "executed_on"], name="transfer_daily_idx"),
            models.Index(fields=["state", "scheduled_for"], name="transfer_due_idx"),
        ]

    def __str__(self) -> str:
        return f"transfer {self.pk} {self.kind} {self.amount} ({self.state})"


class TransferLimit(models.Model):
    """振込限度額: the most the customer's 振込 may total on one Japanese calendar day."""

    customer = models.OneToOneField(
        Customer, on_delete=models.PROTECT, related_name="transfer_limit"
    )
    daily_limit = models.BigIntegerField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(daily_limit__gte=0), name="daily_limit_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.daily_limit}"


class SigningChallenge(models.Model):
    """A transaction-signing challenge (docs/banking.md), bound to what it authorises.

    ``challenge`` is the OCRA question built from purpose, payee and amount (or new
    limit) and a server nonce. Verification rebuilds it from the operation actually
    being executed, so a changed payee or amount cannot reuse a code. ``used_at`` is
    set once with a conditional update; the unique hash means no challenge, and so
    no code, is ever accepted twice.
    """

    class Purpose(models.TextChoices):
        TRANSFER = "transfer", _("振込")
        PAYEE = "payee", _("登録先の登録")
        LIMIT = "limit", _("振込限度額の引き上げ")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    token = models.ForeignKey(Token, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    challenge = models.CharField(max_length=64)
    challenge_hash = models.CharField(max_length=64, unique=True)
    # What the app shows before it signs: payee fields and amount (never secrets).
    details = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "created_at"], name="signing_customer_idx")]

    def __str__(self) -> str:
        return f"challenge {self.pk} ({self.purpose})"
