"""The token's sealed secret has one owner, and "the token in use" one definition."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from netbank import clock
from netbank.banking.signing import signing_capability
from netbank.otp import crypto
from netbank.otp.channels.services import _BY_LOGIN_ID
from netbank.otp.models import Token
from netbank.otp.token_secret import (
    PURPOSE,
    token_secret,
    token_secret_seal,
    token_seed,
    token_signing_key,
)
from netbank.otp.tokens import selectors
from netbank.otp.verification import lock_for_check
from tests.otp.factories import SEED, SIGNING_KEY, in_use_token, make_customer

pytestmark = pytest.mark.django_db


def test_seed_and_signing_key_are_the_two_parts_of_one_sealed_secret() -> None:
    token = in_use_token(seed=SEED, signing_key=SIGNING_KEY)
    assert token_secret(token) == SEED + SIGNING_KEY
    assert token_seed(token) == SEED
    assert token_signing_key(token) == SIGNING_KEY


def test_a_too_short_secret_gives_no_signing_key() -> None:
    # 取引認証 read "the last 32 bytes" without the length check that login had: a
    # truncated row gave a signing key made of seed bytes instead of refusing.
    token = in_use_token()
    sealed = crypto.seal(
        purpose=PURPOSE,
        token_id=token.pk,
        customer_id=token.customer_id,
        plaintext=bytes(range(40)),
    )
    token.secret_key_id, token.secret_nonce = sealed.key_id, sealed.nonce
    token.secret_ciphertext = sealed.ciphertext
    token.save()
    with pytest.raises(crypto.SealError):
        token_signing_key(token)
    with pytest.raises(crypto.SealError):
        token_seed(token)


def test_sealing_refuses_a_signing_key_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        token_secret_seal(token_id=1, customer_id=1, seed=SEED, signing_key=b"\0" * 31)


def test_the_token_in_use_is_the_same_everywhere_on_a_tie() -> None:
    customer = make_customer()
    now = clock.now()
    # Two rows in use with the same in_use_at (a restore, or a race the state machine
    # lost): the ORM orderings and the channel SQL used to be free to pick different ones.
    older = in_use_token(customer)
    newer = in_use_token(customer)
    Token.objects.filter(pk__in=(older.pk, newer.pk)).update(in_use_at=now)
    assert newer.pk > older.pk
    chosen = selectors.token_in_use(customer)
    assert chosen is not None
    assert chosen.pk == newer.pk
    assert signing_capability(customer).token == chosen
    with transaction.atomic(), connection.cursor() as cursor:
        found = lock_for_check(cursor, _BY_LOGIN_ID, [customer.login_id, Token.State.IN_USE])
    assert found is not None
    assert found.token.id == chosen.pk


def test_the_token_put_in_use_last_wins_over_a_newer_row(frozen_clock: object) -> None:
    customer = make_customer()
    first = in_use_token(customer)
    second = in_use_token(customer)
    clock.advance(60)
    Token.objects.filter(pk=first.pk).update(in_use_at=clock.now())
    assert second.pk > first.pk
    chosen = selectors.token_in_use(customer)
    assert chosen is not None
    assert chosen.pk == first.pk
    assert signing_capability(customer).token == chosen
    with transaction.atomic(), connection.cursor() as cursor:
        found = lock_for_check(cursor, _BY_LOGIN_ID, [customer.login_id, Token.State.IN_USE])
    assert found is not None
    assert found.token.id == first.pk
