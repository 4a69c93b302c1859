"""振替 and 振込 through the services: the rules that protect the customer's money."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.core import mail  # noqa: F401  (locmem backend; outbox rows are what we check)

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.banking.destination import Destination
from netbank.banking.errors import (
    BankingError,
    CustomerNotActiveError,
    InsufficientFundsError,
    LimitExceededError,
    NewTokenHoldError,
    SigningRejectedError,
    SigningRequiredError,
)
from netbank.banking.models import Account, AccountType, SigningChallenge, Transfer
from netbank.banking.payees import payee_seed
from netbank.banking.selectors import ledger_check
from netbank.banking.signing import signing_challenge
from netbank.banking.transfers import (
    furikae_order,
    furikomi_order,
    transfer_execute,
)
from netbank.customers import lockout
from netbank.customers.models import Customer, FailureCounter
from netbank.notifications.models import OutboxMail
from netbank.otp.models import Token
from tests.banking.factories import (
    customer_with_account,
    issue_token,
    open_account,
    other_bank,
    sign,
)

pytestmark = pytest.mark.django_db


def key() -> str:
    return secrets.token_urlsafe(32)


def balance(account: Account) -> int:
    account.refresh_from_db()
    return account.balance


def test_furikae_moves_money_between_own_accounts() -> None:
    customer, src = customer_with_account(100_000)
    dst = open_account(customer, account_type=AccountType.SAVINGS)
    order = furikae_order(
        customer=customer, from_account_id=src.pk, to_account_id=dst.pk, amount=30_000
    )
    result = transfer_execute(customer=customer, order=order, idempotency_key=key())
    assert not result.duplicate
    assert result.transfer.state == Transfer.State.COMPLETED
    assert (balance(src), balance(dst)) == (70_000, 30_000)
    assert ledger_check() == []
    assert AuditRecord.objects.filter(event="banking.transfer.completed").count() == 1
    notice = OutboxMail.objects.get(purpose="transfer_notice")
    assert notice.to_addr == customer.email
    assert "30,000円" in notice.body


def test_furikomi_to_registered_payee_below_threshold_needs_no_signing_code() -> None:
    customer, src = customer_with_account(100_000)
    payee_seed(customer=customer, destination=other_bank())
    order = furikomi_order(
        customer=customer, from_account_id=src.pk, amount=12_345, destination=other_bank()
    )
    result = transfer_execute(customer=customer, order=order, idempotency_key=key())
    assert result.transfer.kind == Transfer.Kind.FURIKOMI
    assert result.transfer.payee is not None
    assert balance(src) == 100_000 - 12_345
    assert ledger_check() == []


def test_furikomi_within_this_bank_credits_the_other_customers_account() -> None:
    customer, src = customer_with_account(50_000)
    _other, target = customer_with_account(0)
    dest = Destination.of_account(target, "9999")
    payee_seed(customer=customer, destination=dest)
    order = furikomi_order(
        customer=customer, from_account_id=src.pk, amount=7_000, destination=dest
    )
    transfer_execute(customer=customer, order=order, idempotency_key=key())
    assert (balance(src), balance(target)) == (43_000, 7_000)
    assert target.postings.get().memo.startswith("振込 ﾔﾏﾀﾞ")
    assert ledger_check() == []


def test_same_idempotency_key_twice_transfers_once() -> None:
    customer, src = customer_with_account(100_000)
    dst = open_account(customer, account_type=AccountType.SAVINGS)
    order = furikae_order(
        customer=customer, from_account_id=src.pk, to_account_id=dst.pk, amount=10_000
    )
    k = key()
    first = transfer_execute(customer=customer, order=order, idempotency_key=k)
    second = transfer_execute(customer=customer, order=order, idempotency_key=k)
    assert second.duplicate
    assert second.transfer.pk == first.transfer.pk
    assert Transfer.objects.count() == 1
    assert balance(src) == 90_000
    assert OutboxMail.objects.filter(purpose="transfer_notice").count() == 1


def test_idempotency_key_of_another_customer_is_refused_not_revealed() -> None:
    customer, src = customer_with_account(100_000)
    dst = open_account(customer, account_type=AccountType.SAVINGS)
    k = key()
    order = furikae_order(customer=customer, from_account_id=src.pk, to_account_id=dst.pk, amount=1)
    transfer_execute(customer=customer, order=order, idempotency_key=k)
    intruder, isrc = customer_with_account(100)
    idst = open_account(intruder, account_type=AccountType.SAVINGS)
    iorder = furikae_order(
        customer=intruder, from_account_id=isrc.pk, to_account_id=idst.pk, amount=1
    )
    with pytest.raises(BankingError) as exc:
        transfer_execute(customer=intruder, order=iorder, idempotency_key=k)
    assert exc.value.code == "bad_idempotency_key"


@pytest.mark.parametrize("bad", ["", "short", "x" * 65, "ｆｕｌｌ" * 10, "a b" * 20])
def test_malformed_idempotency_key_is_refused(bad: str) -> None:
    customer, src = customer_with_account(1_000)
    dst = open_account(customer, account_type=AccountType.SAVINGS)
    order = furikae_order(customer=customer, from_account_id=src.pk, to_account_id=dst.pk, amount=1)
    with pytest.raises(BankingError):
        transfer_execute(customer=customer, order=order, idempotency_key=bad)
    assert Transfer.objects.count() == 0


@pytest.mark.parametrize("amount", [0, -1, -50_000])
def test_zero_or_negative_amount_is_refused(amount: int) -> None:
    customer, src = customer_with_account(10_000)
    payee_seed(customer=customer, destination=other_bank())
    with pytest.raises(BankingError) as exc:
        furikomi_order(
            customer=customer, from_account_id=src.pk, amount=amount, destination=other_bank()
        )
    assert exc.value.code == "bad_amount"
    dst = open_account(customer, account_type=AccountType.SAVINGS)
    with pytest.raises(BankingError):
        furikae_order(
            customer=customer, from_account_id=src.pk, to_account_id=dst.pk, amount=amount
        )
    assert balance(src) == 10_000


def test_amount_above_balance_is_refused_at_input_and_at_execution() -> None:
    customer, src = customer_with_account(10_000)
    dst = open_account(customer, account_type=AccountType.SAVINGS)
    with pytest.raises(InsufficientFundsError):
        furikae_order(
            customer=customer, from_account_id=src.pk, to_account_id=dst.pk, amount=10_001
        )
    # Balance checked at input can be gone by the time of 確認 (another transfer).
    order = furikae_order(
        customer=customer, from_account_id=src.pk, to_account_id=dst.pk, amount=8_000
    )
    transfer_execute(customer=customer, order=order, idempotency_key=key())
    with pytest.raises(InsufficientFundsError):
        transfer_execute(customer=customer, order=order, idempotency_key=key())
    assert (balance(src), balance(dst)) == (2_000, 8_000)
    assert Transfer.objects.count() == 1
    assert ledger_check() == []


def test_daily_limit_counts_the_days_furikomi_and_resets_the_next_japanese_day() -> None:
    customer, src = customer_with_account(3_000_000)
    issue_token(customer)
    payee_seed(customer=customer, destination=other_bank())
    from netbank.banking.limits import limit_change

    limit_change(customer=customer, new_limit=200_000)
    order = furikomi_order(
        customer=customer, from_account_id=src.pk, amount=150_000, destination=other_bank()
    )
    transfer_execute(customer=customer, order=order, idempotency_key=key())
    with pytest.raises(LimitExceededError):
        furikomi_order(
            customer=customer, from_account_id=src.pk, amount=50_001, destination=other_bank()
        )
    # Same check under the lock at execution, whatever the input step said.
    late = furikomi_order(
        customer=customer, from_account_id=src.pk, amount=50_000, destination=other_bank()
    )
    transfer_execute(customer=customer, order=late, idempotency_key=key())
    with pytest.raises(LimitExceededError):
        transfer_execute(customer=customer, order=late, idempotency_key=key())
    # 10:00 JST + 14 h = 00:00 JST next day: a new limit day.
    clock.advance(14 * 3600)
    transfer_execute(customer=customer, order=late, idempotency_key=key())
    assert balance(src) == 3_000_000 - 250_000


def test_furikae_between_own_accounts_does_not_count_toward_the_limit() -> None:
    customer, src = customer_with_account(2_000_000)
    dst = open_account(customer, account_type=AccountType.SAVINGS)
    order = furikae_order(
        customer=customer, from_account_id=src.pk, to_account_id=dst.pk, amount=1_500_000
    )
    transfer_execute(customer=customer, order=order, idempotency_key=key())
    assert balance(dst) == 1_500_000


def test_account_of_another_customer_cannot_be_the_source() -> None:
    customer, _src = customer_with_account(1_000)
    _other, foreign = customer_with_account(1_000_000)
    with pytest.raises(BankingError):
        furikomi_order(
            customer=customer, from_account_id=foreign.pk, amount=1, destination=other_bank()
        )
    dst = open_account(customer, account_type=AccountType.SAVINGS)
    with pytest.raises(BankingError):
        furikae_order(customer=customer, from_account_id=foreign.pk, to_account_id=dst.pk, amount=1)


def test_unknown_account_at_this_bank_is_refused() -> None:
    customer, src = customer_with_account(1_000)
    dest = Destination("9999", "001", AccountType.ORDINARY, "0000000", "ｱ")
    with pytest.raises(BankingError) as exc:
        furikomi_order(customer=customer, from_account_id=src.pk, amount=1, destination=dest)
    assert exc.value.code == "no_such_account"


def test_suspended_customer_cannot_transfer() -> None:
    customer, src = customer_with_account(10_000)
    dst = open_account(customer, account_type=AccountType.SAVINGS)
    order = furikae_order(customer=customer, from_account_id=src.pk, to_account_id=dst.pk, amount=1)
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.SUSPENDED)
    with pytest.raises(CustomerNotActiveError):
        transfer_execute(customer=customer, order=order, idempotency_key=key())
    assert balance(src) == 10_000


# --- Signing (dynamic linking) ------------------------------------------------------


def new_payee_order(customer: Customer, src: Account, amount: int = 20_000, **kw: str):  # type: ignore[no-untyped-def]
    return furikomi_order(
        customer=customer, from_account_id=src.pk, amount=amount, destination=other_bank(**kw)
    )


def challenge_for(customer: Customer, order) -> SigningChallenge:  # type: ignore[no-untyped-def]
    return signing_challenge(
        customer=customer,
        purpose=SigningChallenge.Purpose.TRANSFER,
        destination=order.destination,
        amount=order.amount,
        debit_account=Account.objects.get(pk=order.from_account_id),
        scheduled_for=order.scheduled_for,
    )


def signing_failures(customer: Customer) -> int:
    row = FailureCounter.objects.filter(
        kind=lockout.SIGNING_CODE, subject=lockout.subject_for_customer(customer)
    ).first()
    return row.consecutive_failures if row else 0


def test_new_payee_needs_a_signing_code_bound_to_payee_and_amount() -> None:
    customer, src = customer_with_account(100_000)
    _token, signing_key = issue_token(customer)
    order = new_payee_order(customer, src)
    with pytest.raises(SigningRequiredError):
        transfer_execute(customer=customer, order=order, idempotency_key=key())
    challenge = challenge_for(customer, order)
    result = transfer_execute(
        customer=customer,
        order=order,
        idempotency_key=key(),
        challenge_id=challenge.pk,
        signing_code=sign(challenge, signing_key),
    )
    assert result.transfer.signed
    assert balance(src) == 80_000


def test_registered_payee_above_threshold_needs_a_signing_code() -> None:
    customer, src = customer_with_account(1_000_000)
    _token, signing_key = issue_token(customer)
    payee_seed(customer=customer, destination=other_bank())
    order = new_payee_order(customer, src, amount=300_001)
    with pytest.raises(SigningRequiredError):
        transfer_execute(customer=customer, order=order, idempotency_key=key())
    challenge = challenge_for(customer, order)
    transfer_execute(
        customer=customer,
        order=order,
        idempotency_key=key(),
        challenge_id=challenge.pk,
        signing_code=sign(challenge, signing_key),
    )
    assert balance(src) == 699_999


def test_code_signed_for_one_payee_does_not_move_money_to_another() -> None:
    customer, src = customer_with_account(100_000)
    _token, signing_key = issue_token(customer)
    signed_order = new_payee_order(customer, src, account_number="1111111")
    challenge = challenge_for(customer, signed_order)
    code = sign(challenge, signing_key)
    # A hijacked browser swaps the payee after the customer signed.
    swapped = new_payee_order(customer, src, account_number="2222222")
    with pytest.raises(SigningRejectedError):
        transfer_execute(
            customer=customer,
            order=swapped,
            idempotency_key=key(),
            challenge_id=challenge.pk,
            signing_code=code,
        )
    assert balance(src) == 100_000
    assert Transfer.objects.count() == 0
    assert signing_failures(customer) == 1
    assert AuditRecord.objects.filter(event="banking.signing.rejected").exists()


def test_code_signed_for_one_debit_account_does_not_debit_another() -> None:
    """The customer signs a 振込 from account A; a hijacked browser submits the same
    payee and amount from account B. The code is refused and nothing moves."""
    customer, account_a = customer_with_account(100_000)
    account_b = open_account(customer, balance=100_000)
    _token, signing_key = issue_token(customer)
    signed_order = new_payee_order(customer, account_a)
    challenge = challenge_for(customer, signed_order)
    code = sign(challenge, signing_key)
    swapped = new_payee_order(customer, account_b)
    with pytest.raises(SigningRejectedError):
        transfer_execute(
            customer=customer,
            order=swapped,
            idempotency_key=key(),
            challenge_id=challenge.pk,
            signing_code=code,
        )
    assert (balance(account_a), balance(account_b)) == (100_000, 100_000)
    assert Transfer.objects.count() == 0
    assert signing_failures(customer) == 1
    # The same code for the account it was made for still goes through.
    transfer_execute(
        customer=customer,
        order=signed_order,
        idempotency_key=key(),
        challenge_id=challenge.pk,
        signing_code=code,
    )
    assert (balance(account_a), balance(account_b)) == (80_000, 100_000)


def test_code_signed_for_one_amount_does_not_pass_for_another() -> None:
    customer, src = customer_with_account(100_000)
    _token, signing_key = issue_token(customer)
    order = new_payee_order(customer, src, amount=1_000)
    challenge = challenge_for(customer, order)
    code = sign(challenge, signing_key)
    bigger = new_payee_order(customer, src, amount=90_000)
    with pytest.raises(SigningRejectedError):
        transfer_execute(
            customer=customer,
            order=bigger,
            idempotency_key=key(),
            challenge_id=challenge.pk,
            signing_code=code,
        )
    assert balance(src) == 100_000


def test_signing_code_is_single_use() -> None:
    customer, src = customer_with_account(100_000)
    _token, signing_key = issue_token(customer)
    order = new_payee_order(customer, src)
    challenge = challenge_for(customer, order)
    code = sign(challenge, signing_key)
    transfer_execute(
        customer=customer,
        order=order,
        idempotency_key=key(),
        challenge_id=challenge.pk,
        signing_code=code,
    )
    # Replaying the same challenge and code as a new transfer (new idempotency key).
    with pytest.raises(SigningRejectedError):
        transfer_execute(
            customer=customer,
            order=order,
            idempotency_key=key(),
            challenge_id=challenge.pk,
            signing_code=code,
        )
    assert balance(src) == 80_000
    assert signing_failures(customer) == 1


def test_code_from_another_tokens_key_is_refused() -> None:
    customer, src = customer_with_account(100_000)
    issue_token(customer)
    order = new_payee_order(customer, src)
    challenge = challenge_for(customer, order)
    with pytest.raises(SigningRejectedError):
        transfer_execute(
            customer=customer,
            order=order,
            idempotency_key=key(),
            challenge_id=challenge.pk,
            signing_code=sign(challenge, secrets.token_bytes(32)),
        )
    assert balance(src) == 100_000


def test_challenge_of_another_customer_cannot_be_used() -> None:
    victim, vsrc = customer_with_account(100_000)
    _vt, vkey = issue_token(victim)
    attacker, asrc = customer_with_account(100_000)
    issue_token(attacker)
    vorder = new_payee_order(victim, vsrc)
    vchallenge = challenge_for(victim, vorder)
    aorder = new_payee_order(attacker, asrc)
    with pytest.raises(SigningRejectedError):
        transfer_execute(
            customer=attacker,
            order=aorder,
            idempotency_key=key(),
            challenge_id=vchallenge.pk,
            signing_code=sign(vchallenge, vkey),
        )
    assert balance(asrc) == 100_000


def test_expired_challenge_is_refused() -> None:
    customer, src = customer_with_account(100_000)
    _token, signing_key = issue_token(customer)
    order = new_payee_order(customer, src)
    challenge = challenge_for(customer, order)
    clock.advance(5 * 60 + 1)
    with pytest.raises(SigningRejectedError) as exc:
        transfer_execute(
            customer=customer,
            order=order,
            idempotency_key=key(),
            challenge_id=challenge.pk,
            signing_code=sign(challenge, signing_key),
        )
    assert "有効期限" in str(exc.value.message)
    assert balance(src) == 100_000


def test_fifth_wrong_signing_code_locks_signing_and_mails_the_customer() -> None:
    customer, src = customer_with_account(100_000)
    _token, signing_key = issue_token(customer)
    order = new_payee_order(customer, src)
    for _ in range(5):
        challenge = challenge_for(customer, order)
        with pytest.raises(SigningRejectedError):
            transfer_execute(
                customer=customer,
                order=order,
                idempotency_key=key(),
                challenge_id=challenge.pk,
                signing_code="00000000",
            )
    assert OutboxMail.objects.filter(purpose="lock_notice").exists()
    # Now even a correct code is refused, and no new challenge is handed out.
    with pytest.raises(SigningRejectedError):
        challenge_for(customer, order)
    with pytest.raises(SigningRejectedError):
        transfer_execute(
            customer=customer,
            order=order,
            idempotency_key=key(),
            challenge_id=challenge.pk,
            signing_code=sign(challenge, signing_key),
        )
    assert balance(src) == 100_000


def test_new_payee_is_held_for_24_hours_after_a_token_reissue() -> None:
    customer, src = customer_with_account(100_000)
    now = clock.now()
    old, _old_key = issue_token(customer, created_at=now - timedelta(days=90))
    Token.objects.filter(pk=old.pk).update(state=Token.State.REVOKED)
    _new, new_key = issue_token(customer, created_at=now - timedelta(hours=2))
    order = new_payee_order(customer, src)
    with pytest.raises(NewTokenHoldError):
        challenge_for_and_execute(customer, order, new_key)
    # A registered payee is not held.
    payee_seed(customer=customer, destination=other_bank(account_number="3333333"))
    known = new_payee_order(customer, src, account_number="3333333")
    transfer_execute(customer=customer, order=known, idempotency_key=key())
    clock.advance(22 * 3600 + 1)
    challenge_for_and_execute(customer, order, new_key)
    assert balance(src) == 100_000 - 40_000


def challenge_for_and_execute(customer: Customer, order, signing_key: bytes) -> None:  # type: ignore[no-untyped-def]
    from netbank.banking.transfers import transfer_requirements

    transfer_requirements(customer=customer, order=order)
    challenge = challenge_for(customer, order)
    transfer_execute(
        customer=customer,
        order=order,
        idempotency_key=key(),
        challenge_id=challenge.pk,
        signing_code=sign(challenge, signing_key),
    )


def test_authenticator_user_cannot_pay_a_new_payee_and_is_told_why() -> None:
    customer, src = customer_with_account(100_000)
    issue_token(customer, kind=Token.Kind.AUTHENTICATOR)
    order = new_payee_order(customer, src)
    with pytest.raises(SigningRequiredError) as exc:
        transfer_execute(customer=customer, order=order, idempotency_key=key())
    assert "標準の認証アプリ" in str(exc.value.message)
    with pytest.raises(SigningRequiredError):
        challenge_for(customer, order)


def test_authenticator_user_has_the_lower_daily_limit() -> None:
    customer, src = customer_with_account(1_000_000)
    issue_token(customer, kind=Token.Kind.AUTHENTICATOR)
    payee_seed(customer=customer, destination=other_bank())
    with pytest.raises(LimitExceededError):
        new_payee_order(customer, src, amount=100_001)
    order = new_payee_order(customer, src, amount=100_000)
    transfer_execute(customer=customer, order=order, idempotency_key=key())
    assert balance(src) == 900_000


def test_signing_for_a_revoked_token_is_refused() -> None:
    customer, src = customer_with_account(100_000)
    token, signing_key = issue_token(customer)
    order = new_payee_order(customer, src)
    challenge = challenge_for(customer, order)
    Token.objects.filter(pk=token.pk).update(state=Token.State.SUSPENDED)
    with pytest.raises((SigningRejectedError, SigningRequiredError)):
        transfer_execute(
            customer=customer,
            order=order,
            idempotency_key=key(),
            challenge_id=challenge.pk,
            signing_code=sign(challenge, signing_key),
        )
    assert balance(src) == 100_000
