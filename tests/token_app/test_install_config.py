"""The install configuration: which bank the app talks to and which key it trusts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from netbank.oath.activation import ed25519_public_text
from netbank.token_app.client import ActivationClient, client_from_install_config
from netbank.token_app.install_config import (
    InstallConfig,
    InstallConfigError,
    install_config_load,
    install_config_parse,
    install_config_write,
)

KEY = ed25519_public_text(Ed25519PrivateKey.generate().public_key())
OTHER = ed25519_public_text(Ed25519PrivateKey.generate().public_key())


def _config(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "format": "netbank-install/1",
        "bank_name": "ネットバンク",
        "bank_url": "https://bank.example.jp",
        "bank_public_keys": [KEY],
        "service_id": "100001",
    }
    data.update(changes)
    return data


def test_written_configuration_reads_back(tmp_path: Path) -> None:
    config = InstallConfig("https://bank.example.jp", (KEY, OTHER), "ネットバンク", "100001")
    path = tmp_path / "install.json"
    install_config_write(path, config)
    assert install_config_load(path) == config
    assert "ネットバンク" in path.read_text(encoding="utf-8")


def test_client_from_configuration_trusts_every_listed_key() -> None:
    config = install_config_parse(json.dumps(_config(bank_public_keys=[KEY, OTHER])))
    client = client_from_install_config(config)
    assert isinstance(client, ActivationClient)
    assert len(client.trusted_keys) == 2
    assert client.base_url == "https://bank.example.jp"


@pytest.mark.parametrize(
    "changes",
    [
        {"format": "netbank-install/0"},
        {"bank_url": "ftp://bank.example.jp"},
        {"bank_url": 5},
        {"bank_public_keys": []},
        {"bank_public_keys": "not-a-list"},
        {"bank_public_keys": ["AAAA"]},
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
