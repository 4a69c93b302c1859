"""record() refuses secrets by name at any depth, URLs, and values it cannot hash stably."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from netbank.audit.models import AuditChainHead, AuditRecord
from netbank.audit.secrecy import AuditDataError, data_checked, key_is_secret
from netbank.audit.services import record
from netbank.audit.verify import audit_verify

SRC = Path(__file__).resolve().parents[2] / "src" / "netbank"


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "Password",
        "new_password",
        "activationPassword",
        "activation_password",
        "transaction-password",
        "passwd",
        "otp",
        "OTP",
        "otp_code",
        "code",
        "signing_code",
        "seed",
        "seed_hex",
        "seed_b32",
        "secret",
        "client_secret",
        "token",
        "api_key",
        "key",
        "session_key",
        "url",
        "direct_url",
        "loginURL",
        "otpauth_uri",
        "link",
        "answer",
        "secret_answer",
        "pin",
        "app_pin",
        "cookie",
        "credentials",
        "ticket",
        "mac",
    ],
)
def test_secret_names_are_refused(key: str) -> None:
    assert key_is_secret(key)
    with pytest.raises(AuditDataError, match="secrets"):
        data_checked({key: "x"})


@pytest.mark.parametrize(
    "key",
    [
        "token_id",
        "replaced_by_token_id",
        "key_id",
        "ticket_id",
        "password_changed",
        "tokens_suspended",
        "token_issues_voided",
        "direct_login_urls_voided",
        "bank_code",
        "branch_code",
        "channel",
        "reason",
        "kind",
        "position",
        "positions",
        "user_id",
        "login_id",
        "passed",
        "keyboard",
    ],
)
def test_names_about_a_secret_or_unrelated_are_accepted(key: str) -> None:
    assert not key_is_secret(key)


def test_secrets_nested_in_dicts_and_lists_are_refused() -> None:
    with pytest.raises(AuditDataError, match=r"data\.form\.password"):
        data_checked({"form": {"login_id": "abc", "password": "x"}})
    with pytest.raises(AuditDataError, match=r"data\.attempts\[1\]\.otp"):
        data_checked({"attempts": [{"n": 1}, {"otp": "123456"}]})


@pytest.mark.parametrize(
    "value",
    [
        "https://bank.example/login/direct/?t=abc",
        "otpauth://totp/NetBank:x?secret=JBSWY3DPEHPK3PXP",
        "see HTTP://bank.example/x",
    ],
)
def test_url_values_are_refused_even_under_harmless_names(value: str) -> None:
    with pytest.raises(AuditDataError, match="URLs"):
        data_checked({"note": value})
    with pytest.raises(AuditDataError, match="URLs"):
        data_checked({"notes": [{"text": value}]})


@pytest.mark.parametrize(
    ("value", "message"),
    [(1.5, "floats"), (b"bytes", "bytes"), ({1: "x"}, "strings"), (object(), "object")],
)
def test_values_the_chain_cannot_hash_stably_are_refused(value: object, message: str) -> None:
    with pytest.raises(AuditDataError, match=message):
        data_checked({"v": value})


def test_tuples_become_lists_as_json_would_give_them_back() -> None:
    assert data_checked({"pos": (1, 2)}) == {"pos": [1, 2]}


@pytest.mark.django_db
def test_refused_data_writes_nothing() -> None:
    with pytest.raises(ValueError, match="secrets"):
        record("login.failed", customer_id=1, form={"Password": "hunter2"})
    assert not AuditRecord.objects.exists()
    assert not AuditChainHead.objects.exists()


def _record_keywords() -> set[tuple[str, str]]:
    """(keyword, where) of every ``record(...)`` call in the application."""
    found: set[tuple[str, str]] = set()
    for path in SRC.rglob("*.py"):
        if "audit" in path.relative_to(SRC).parts[:1]:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "record"
            ):
                for kw in node.keywords:
                    if kw.arg is not None:
                        found.add((kw.arg, f"{path.relative_to(SRC)}:{node.lineno}"))
    return found


def test_every_key_the_application_records_today_passes_the_rule() -> None:
    """A caller that starts recording a secret-named key fails here, not in production."""
    keywords = _record_keywords()
    assert len(keywords) > 50  # the scan found the callers
    principals = {"customer_id", "operator_id", "ip"}
    refused = sorted(
        (k, where) for k, where in keywords if k not in principals and key_is_secret(k)
    )
    assert refused == []


@pytest.mark.django_db
def test_nul_and_lone_surrogates_are_stored_as_replacement_characters() -> None:
    """PostgreSQL's jsonb refuses them; an attacker's input must not fail the event."""
    row = record("login.failed", customer_id=1, login_id="ab\x00c\ud800", **{"k\x00": "v"})
    assert row.data == {"login_id": "ab\ufffdc\ufffd", "k\ufffd": "v"}
    row.refresh_from_db()
    assert row.data == {"login_id": "ab\ufffdc\ufffd", "k\ufffd": "v"}
    assert audit_verify(checkpoint_dir=None).ok
