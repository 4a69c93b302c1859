"""The install configuration: which bank the app talks to and which keys it trusts, until
when, and which key comes next."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from netbank.oath import activation as proto
from netbank.oath.activation import ed25519_public_text
from netbank.oath.bankkeys import (
    BankKey,
    key_fingerprint,
    key_id_for,
    not_after_parse,
    not_after_text,
)
from netbank.token_app.client import (
    ActivationClient,
    ActivationRefusedError,
    UntrustedAnswerError,
    client_from_install_config,
)
from netbank.token_app.install_config import (
    BankKeyExpiredConfigError,
    InstallConfig,
    InstallConfigError,
    install_config_load,
    install_config_parse,
    install_config_write,
)
from tests.token_app.bank import LoopbackBank, running_bank
from tests.token_app.conftest import START, ManualClock

KEY = ed25519_public_text(Ed25519PrivateKey.generate().public_key())
OTHER = ed25519_public_text(Ed25519PrivateKey.generate().public_key())
DAY = 86400
CURRENT_END = int(START) + 30 * DAY
NEXT_END = int(START) + 800 * DAY


def _key(public: str = KEY, key_id: str = "bank-2026", end: int = CURRENT_END) -> dict[str, str]:
    return {"key_id": key_id, "public_key": public, "not_after": not_after_text(end)}


def _config(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "format": "netbank-install/2",
        "bank_name": "ネットバンク",
        "bank_url": "https://bank.example.jp",
        "service_id": "100001",
        "bank_key": _key(),
        "next_bank_key": _key(OTHER, "bank-2027", NEXT_END),
    }
    data.update(changes)
    return data


def test_written_configuration_reads_back(tmp_path: Path) -> None:
    config = InstallConfig(
        "https://bank.example.jp",
        BankKey("bank-2026", KEY, CURRENT_END),
        BankKey("bank-2027", OTHER, NEXT_END),
        "ネットバンク",
        "100001",
    )
    path = tmp_path / "install.json"
    install_config_write(path, config)
    assert install_config_load(path) == config
    text = path.read_text(encoding="utf-8")
    assert "ネットバンク" in text
    assert f'"not_after": "{not_after_text(CURRENT_END)}"' in text


def test_client_trusts_the_current_and_the_next_key_until_the_current_expires() -> None:
    config = install_config_parse(json.dumps(_config()))
    clock = ManualClock()
    client = client_from_install_config(config, clock=clock)
    assert isinstance(client, ActivationClient)
    assert len(client.trusted_keys) == 2
    assert client.base_url == "https://bank.example.jp"
    assert [k.key_id for k in config.keys_at(clock())] == ["bank-2026", "bank-2027"]

    clock.now = CURRENT_END  # the current key's not-after time is exclusive
    assert [k.key_id for k in config.keys_at(clock())] == ["bank-2027"]
    assert len(client_from_install_config(config, clock=clock).trusted_keys) == 1


def test_an_app_whose_keys_all_expired_refuses_to_activate() -> None:
    config = install_config_parse(json.dumps(_config()))
    clock = ManualClock(NEXT_END + 1)
    with pytest.raises(BankKeyExpiredConfigError, match="expired"):
        client_from_install_config(config, clock=clock)
    alone = install_config_parse(json.dumps(_config(next_bank_key=None)))
    with pytest.raises(BankKeyExpiredConfigError):
        client_from_install_config(alone, clock=ManualClock(CURRENT_END))


def _bank_config(bank: LoopbackBank, current: BankKey, following: BankKey | None) -> InstallConfig:
    return InstallConfig(bank.base_url, current, following, "テスト銀行", bank.service_id)


def _activate(config: InstallConfig, bank: LoopbackBank, clock: ManualClock) -> None:
    issue = bank.issue("4821")
    client = client_from_install_config(config, clock=clock, sleep=lambda _: None)
    client.activate(bank.service_id, issue.user_id, "4821")


def test_the_app_rolls_to_the_next_key_and_refuses_the_expired_one() -> None:
    old_key, new_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    old = BankKey("bank-2026", ed25519_public_text(old_key.public_key()), CURRENT_END)
    new = BankKey("bank-2027", ed25519_public_text(new_key.public_key()), NEXT_END)
    clock = ManualClock()
    with running_bank(LoopbackBank(key=old_key)) as bank:
        config = _bank_config(bank, old, new)
        _activate(config, bank, clock)  # the current key, before it expires
        bank.key = new_key
        _activate(config, bank, clock)  # the bank switched early: the next key is trusted
        clock.now = CURRENT_END + 1
        _activate(config, bank, clock)  # the current key ran out: the next one carries on
        bank.key = old_key
        with pytest.raises(UntrustedAnswerError):
            _activate(config, bank, clock)  # the retired key is not trusted any more


def test_a_fake_bank_the_app_does_not_trust_never_gets_a_proof() -> None:
    # Whoever answers without a key of the install configuration is refused before the
    # app sends anything derived from the activation password: nothing to search offline.
    trusted = BankKey("bank-2026", KEY, CURRENT_END)
    with running_bank() as fake:  # signs with a key of its own
        issue = fake.issue("4821")
        client = client_from_install_config(
            _bank_config(fake, trusted, None), clock=ManualClock(), sleep=lambda _: None
        )
        with pytest.raises(UntrustedAnswerError):
            client.activate(fake.service_id, issue.user_id, "4821")
        assert fake.requests == 1  # round one reached it, round two (the proof) never did
        assert issue.state == "issued"


def test_the_old_format_without_key_expiry_is_refused_with_a_clear_message() -> None:
    old = {
        "format": "netbank-install/1",
        "bank_url": "https://bank.example.jp",
        "bank_public_keys": [KEY],
    }
    with pytest.raises(InstallConfigError, match="old format"):
        install_config_parse(json.dumps(old))


def test_fingerprint_and_key_id_are_stable_and_differ_between_keys() -> None:
    assert key_fingerprint(KEY) == key_fingerprint(KEY)
    assert key_fingerprint(KEY) != key_fingerprint(OTHER)
    assert len(key_fingerprint(KEY)) == 24  # 5 groups of 4 hex digits
    assert key_id_for(KEY) != key_id_for(OTHER)
    assert BankKey("x", KEY, 0).fingerprint == key_fingerprint(KEY)
    assert not_after_parse(not_after_text(CURRENT_END)) == CURRENT_END


@pytest.mark.parametrize(
    "changes",
    [
        {"format": "netbank-install/0"},
        {"bank_url": "ftp://bank.example.jp"},
        {"bank_url": 5},
        {"bank_key": None},
        {"bank_key": "not-an-object"},
        {"bank_key": {**_key(), "public_key": "AAAA"}},
        {"bank_key": {**_key(), "key_id": "has space"}},
        {"bank_key": {**_key(), "not_after": "2027-02-30T00:00:00Z"}},
        {"bank_key": {**_key(), "not_after": 1900000000}},
        {"bank_key": {**_key(), "extra": 1}},
        {"next_bank_key": _key()},  # the same key again
        {"next_bank_key": _key(OTHER, "bank-2027", CURRENT_END)},  # ends no later
        {"service_id": "has space"},
    ],
)
def test_malformed_configuration_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(InstallConfigError):
        install_config_parse(json.dumps(_config(**changes)))


@pytest.mark.parametrize("text", ["", "not json", "[1]", '"text"'])
def test_configuration_that_is_not_a_json_object_is_refused(text: str) -> None:
    with pytest.raises(InstallConfigError):
        install_config_parse(text)


def test_missing_or_huge_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InstallConfigError, match="cannot read"):
        install_config_load(tmp_path / "missing.json")
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (65 * 1024))
    with pytest.raises(InstallConfigError, match="too large"):
        install_config_load(huge)


def test_residual_risk_a_fake_bank_holding_a_trusted_key_can_search_offline() -> None:
    # No PAKE (docs/protocols.md 1.11): whoever signs with a key the app trusts receives
    # a proof and can test every password offline. This pins the documented residual
    # risk down, and is why key expiry, fingerprints and an HSM matter.
    stolen = Ed25519PrivateKey.generate()
    trusted = BankKey("bank-2026", ed25519_public_text(stolen.public_key()), CURRENT_END)
    captured: dict[str, object] = {}

    def fake_bank(url: str, body: bytes) -> tuple[int, bytes]:
        request = json.loads(body)
        if url.endswith("/start"):
            private, public = proto.x25519_generate()
            transcript = proto.Transcript(
                transcript_id=proto.new_transcript_id(),
                service_id=request["service_id"],
                user_id=request["user_id"],
                app_public_key=proto.b64url_decode(
                    request["app_public_key"], length=32, field="app_public_key"
                ),
                server_public_key=public,
                algorithm="SHA1",
                digits=6,
                period=30,
                server_time=int(START),
                expires_at=int(START) + DAY,
            )
            captured["transcript"], captured["private"] = transcript, private
            return 200, json.dumps(
                transcript.to_json(proto.sign_transcript(stolen, transcript))
            ).encode()
        captured["proof"] = proto.b64url_decode(request["proof"], length=32, field="proof")
        return 403, b'{"error": {"code": "activation_failed", "message": "", "message_en": ""}}'

    config = InstallConfig("https://bank.example.jp", trusted, None, "ネットバンク", "100001")
    client = client_from_install_config(
        config, transport=fake_bank, clock=ManualClock(), sleep=lambda _: None
    )
    with pytest.raises(ActivationRefusedError):
        client.activate("100001", "394817265043", "7306")

    transcript = captured["transcript"]
    assert isinstance(transcript, proto.Transcript)
    private = captured["private"]
    assert isinstance(private, X25519PrivateKey)
    keys = proto.derive_keys(
        proto.x25519_shared_secret(private, transcript.app_public_key), transcript
    )
    found = [
        guess
        for guess in (f"{n:04d}".encode() for n in range(10_000))
        if proto.macs_equal(
            proto.client_proof(keys.confirmation_key, transcript, guess), captured["proof"]
        )
    ]
    assert found == [b"7306"]
