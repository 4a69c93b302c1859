"""The phone app's installconfig.js: the live /app/install.json, the refusals of
netbank.token_app.install_config, which keys are trusted when, and the key fingerprint."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Page

from netbank.oath.activation import ed25519_public_text
from netbank.oath.bankkeys import BankKey, key_fingerprint, not_after_text
from netbank.token_app.install_config import (
    BankKeyExpiredConfigError,
    InstallConfigError,
    install_config_parse,
)
from tests.webapp.conftest import run_js
from tests.webapp.test_activation_js import non_canonical

KEYS = [ed25519_public_text(Ed25519PrivateKey.generate().public_key()) for _ in range(4)]
CURRENT_END = 1_830_000_000
NEXT_END = CURRENT_END + 700 * 86400


def _key(public: str = KEYS[0], key_id: str = "bank-2026", end: object = CURRENT_END) -> Any:
    return {
        "key_id": key_id,
        "public_key": public,
        "not_after": not_after_text(end) if isinstance(end, int) else end,
    }


def _config(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "format": "netbank-install/2",
        "bank_name": "ネットバンク",
        "bank_url": "https://bank.example.jp",
        "service_id": "100001",
        "bank_key": _key(),
        "next_bank_key": _key(KEYS[1], "bank-2028", NEXT_END),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


ACCEPTED = [
    _config(),
    _config(next_bank_key=None),
    _config(next_bank_key=..., service_id=..., bank_name=...),
    _config(bank_url="http://localhost:8000", service_id=""),
]
BAD_KEY_ENTRIES = [
    None,
    [],
    {**_key(), "extra": 1},
    {k: v for k, v in _key().items() if k != "key_id"},
    _key(key_id="a b"),
    _key(key_id="k" * 33),
    _key(key_id=""),
    _key(public=KEYS[0][:-2]),
    _key(public=KEYS[0] + "="),
    _key(public=non_canonical(KEYS[0])),
    {**_key(), "public_key": 5},
    _key(end="2027-02-30T00:00:00Z"),
    _key(end="2027-12-31 23:59:59Z"),
    _key(end="2027-12-31T24:00:00Z"),
    _key(end="2027-12-31T23:60:00Z"),
    _key(end="2027-12-31T23:59:60Z"),
    _key(end="0000-01-01T00:00:00Z"),
    _key(end="2027-12-31T23:59:59+09:00"),
    {**_key(), "not_after": CURRENT_END},
]
REFUSED: list[object] = [
    "{",
    "[]",
    "null",
    _config(format="netbank-install/1"),
    _config(format=...),
    _config(bank_url=5),
    _config(bank_name=None),
    _config(service_id="bad id!"),
    _config(bank_url="ftp://bank.example.jp"),
    _config(bank_url="https://"),
    _config(bank_url=...),
    _config(bank_key=...),
    *[_config(bank_key=entry) for entry in BAD_KEY_ENTRIES],
    *[_config(next_bank_key=entry) for entry in BAD_KEY_ENTRIES[2:]],
    _config(next_bank_key=_key(KEYS[0], "bank-2028", NEXT_END)),  # the same key
    _config(next_bank_key=_key(KEYS[1], "bank-2026", NEXT_END)),  # the same key id
    _config(next_bank_key=_key(KEYS[1], "bank-2028", CURRENT_END)),  # not outliving it
]


def _text(config: object) -> str:
    return config if isinstance(config, str) else json.dumps(config, ensure_ascii=False)


def _python_keys(config: dict[str, object], now: int) -> object:
    try:
        keys = install_config_parse(json.dumps(config)).keys_at(now)
    except BankKeyExpiredConfigError:
        return "BankKeyExpiredError"
    return [_js_key(k) for k in keys]


def _js_key(key: BankKey) -> dict[str, object]:
    return {"keyId": key.key_id, "publicKey": key.public_key, "notAfter": key.not_after}


def test_install_config_parsing_keys_and_fingerprints_equal_python(js_page: Page) -> None:
    for config in REFUSED:
        try:
            install_config_parse(_text(config))
        except InstallConfigError:
            continue
        raise AssertionError(f"Python accepts {config!r}")
    moments = [CURRENT_END - 1, CURRENT_END, NEXT_END - 1, NEXT_END, 0]
    out = run_js(
        js_page,
        """
        const c = await import(APP + "installconfig.js");
        const attempt = async (f) => { try { return await f(); } catch (e) { return e.name; } };
        const live = await (await fetch("/app/install.json")).text();
        const config = c.parseInstallConfig(live);
        return {
          live, config, liveKeys: c.keysAt(config, Date.now() / 1000),
          liveFingerprint: await c.fingerprint(config.bankKey.publicKey),
          accepted: await Promise.all(arg.accepted.map((t) => attempt(() => c.parseInstallConfig(t)))),
          acceptedObject: c.parseInstallConfig(JSON.parse(arg.accepted[0])),
          refused: await Promise.all(arg.refused.map((t) => attempt(() => c.parseInstallConfig(t)))),
          keysAt: await Promise.all(arg.keysAt.map(([t, now]) =>
            attempt(() => c.keysAt(c.parseInstallConfig(t), now)))),
          fingerprints: await Promise.all(arg.keys.map((k) => attempt(() => c.fingerprint(k)))),
        };
        """,
        {
            "accepted": [_text(config) for config in ACCEPTED],
            "refused": [_text(config) for config in REFUSED],
            "keysAt": [[_text(config), now] for config in ACCEPTED[:2] for now in moments],
            "keys": [*KEYS, KEYS[0][:-1], 5],
        },
    )
    live = install_config_parse(out["live"])
    expected_live = {
        "bankName": live.bank_name,
        "bankUrl": live.bank_url,
        "serviceId": live.service_id,
        "bankKey": _js_key(live.bank_key),
        "nextBankKey": None if live.next_bank_key is None else _js_key(live.next_bank_key),
    }
    assert out["config"] == expected_live
    assert out["liveKeys"][0] == expected_live["bankKey"]
    assert out["liveFingerprint"] == live.bank_key.fingerprint
    for config, parsed in zip(ACCEPTED, out["accepted"], strict=True):
        py = install_config_parse(json.dumps(config))
        assert parsed["bankKey"] == _js_key(py.bank_key)
        assert parsed["nextBankKey"] == (py.next_bank_key and _js_key(py.next_bank_key))
        assert (parsed["bankUrl"], parsed["serviceId"], parsed["bankName"]) == (
            py.bank_url,
            py.service_id,
            py.bank_name,
        )
    assert out["acceptedObject"] == out["accepted"][0]
    assert out["refused"] == ["InstallConfigError"] * len(REFUSED)
    expected_keys = [_python_keys(config, now) for config in ACCEPTED[:2] for now in moments]
    assert out["keysAt"] == expected_keys
    # The next key takes over when the current one runs out; then nothing is trusted.
    following = install_config_parse(json.dumps(ACCEPTED[0])).next_bank_key
    assert following is not None
    assert expected_keys[1] == [_js_key(following)]
    assert expected_keys[3] == expected_keys[6] == "BankKeyExpiredError"
    assert out["fingerprints"] == [key_fingerprint(k) for k in KEYS] + ["InstallConfigError"] * 2
