"""Helpers for driving the customer screens through Django's test client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.test import Client

from netbank.customers.hashers import NetbankArgon2PasswordHasher
from tests.customers.factories import PASSWORD


class HashCalls:
    """Counts Argon2 work by wrapping the real hasher's methods (not by timing)."""

    def __init__(self) -> None:
        self.verify = 0
        self.encode = 0

    @property
    def total(self) -> int:
        return self.verify + self.encode


@contextmanager
def counting_hasher(monkeypatch: pytest.MonkeyPatch) -> Iterator[HashCalls]:
    calls = HashCalls()
    real_verify = NetbankArgon2PasswordHasher.verify
    real_encode = NetbankArgon2PasswordHasher.encode

    def verify(self: NetbankArgon2PasswordHasher, password: str, encoded: str) -> bool:
        calls.verify += 1
        return real_verify(self, password, encoded)

    def encode(self: NetbankArgon2PasswordHasher, password: str, salt: str) -> str:
        calls.encode += 1
        return real_encode(self, password, salt)

    monkeypatch.setattr(NetbankArgon2PasswordHasher, "verify", verify)
    monkeypatch.setattr(NetbankArgon2PasswordHasher, "encode", encode)
    yield calls


def post_login(client: Client, login_id: str, password: str, ip: str = "198.51.100.7"):  # type: ignore[no-untyped-def]
    return client.post("/", {"login_id": login_id, "password": password}, REMOTE_ADDR=ip)


def log_in(client: Client, login_id: str, password: str = PASSWORD) -> None:
    """Both login steps for a customer without OTP: password, then the OTP step passes."""
    r = post_login(client, login_id, password)
    assert r.status_code == 302, r.content.decode()[:2000]
    assert r["Location"] == "/login/otp/"
    r = client.get("/login/otp/")
    assert r.status_code == 302
    assert r["Location"] == "/top/"
