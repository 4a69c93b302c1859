"""A vault on a machine without a keyring (the device secret in a file), and the
wrong-PIN counter kept outside the vault file."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest

from netbank.token_app.vault import (
    FILE_KDF,
    PRODUCTION_KDF,
    InvalidPinError,
    KdfParams,
    PinDelayError,
    PinTooWeakError,
    StateFolderError,
    Vault,
    VaultTamperedError,
    VaultWipedError,
    WrongPinError,
    default_kdf,
)
from tests.token_app.conftest import CHEAP_KDF, PIN, ManualClock, make_token

FILE_PIN = "48213795"
PASSPHRASE = "田んぼの畦道 2026 spring"

pytestmark = pytest.mark.usefixtures("no_keyring")


def _vault(path: Path, clock: ManualClock, kdf: KdfParams | None = CHEAP_KDF) -> Vault:
    return Vault(path, kdf=kdf, clock=clock)


# --- the PIN rule ------------------------------------------------------------------------


@pytest.mark.parametrize("pin", ["4821", "48213", "482137", "4821379"])
def test_without_a_keyring_a_pin_shorter_than_8_digits_is_refused(
    vault_path: Path, manual_clock: ManualClock, state_dir: Path, pin: str
) -> None:
    with pytest.raises(PinTooWeakError):
        _vault(vault_path, manual_clock).create(pin, [make_token()])
    assert not vault_path.exists()
    assert not state_dir.exists() or not list(state_dir.iterdir())  # no secret left behind


@pytest.mark.parametrize("pin", [FILE_PIN, PASSPHRASE, "correct horse battery"])
def test_without_a_keyring_8_digits_or_a_passphrase_are_accepted(
    vault_path: Path, manual_clock: ManualClock, pin: str
) -> None:
    _vault(vault_path, manual_clock).create(pin, [make_token()])
    assert _vault(vault_path, manual_clock).unlock(pin).tokens


@pytest.mark.parametrize(
    "pin", ["short phrase", " leading space pass", "1234567890123", "tab\tinside phrase"]
)
def test_what_is_neither_digits_nor_a_passphrase_is_refused(
    vault_path: Path, manual_clock: ManualClock, pin: str
) -> None:
    if pin == "short phrase":
        pin = "short phrase"[:11]
    with pytest.raises(InvalidPinError):
        _vault(vault_path, manual_clock).create(pin, [make_token()])


def test_changing_the_pin_without_a_keyring_keeps_the_rule(
    vault_path: Path, manual_clock: ManualClock
) -> None:
    opened = _vault(vault_path, manual_clock).create(FILE_PIN, [make_token()])
    with pytest.raises(PinTooWeakError):
        opened.change_pin("4821")
    opened.change_pin(PASSPHRASE)
    assert _vault(vault_path, manual_clock).unlock(PASSPHRASE).tokens


def test_with_a_keyring_the_pin_rule_is_unchanged(
    vault_path: Path, manual_clock: ManualClock, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue("machine_keyring")
    opened = _vault(vault_path, manual_clock).create(PIN, [make_token()])
    assert opened.device_secret_kind == "keyring"
    assert opened.pin_meets_current_rule
    opened.change_pin("1234")


# --- where the device secret lives ---------------------------------------------------------


def test_the_device_secret_is_outside_the_vaults_folder(
    vault_path: Path, manual_clock: ManualClock, state_dir: Path
) -> None:
    opened = _vault(vault_path, manual_clock).create(FILE_PIN, [make_token()])
    assert opened.device_secret_kind == "file"
    vault_id = json.loads(vault_path.read_text())["vault_id"]
    secret = state_dir / f"{vault_id}.device-secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    # The vault's folder holds the vault (and its lock file), nothing of the secret.
    assert sorted(p.name for p in vault_path.parent.iterdir()) == ["vault.json", "vault.json.lock"]

    # A backup of the vault's folder, restored on another machine (no state folder):
    # useless without the secret.
    backup = vault_path.parent.parent / "backup"
    shutil.copytree(vault_path.parent, backup)
    shutil.rmtree(state_dir)
    from netbank.token_app.vault import DeviceSecretMissingError

    with pytest.raises(DeviceSecretMissingError):
        _vault(backup / "vault.json", manual_clock).unlock(FILE_PIN)


def test_default_state_folder_is_xdg_state_home_or_local_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from netbank.token_app.paths import state_dir

    monkeypatch.delenv("NETBANK_TOKEN_SECRET_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    assert state_dir() == tmp_path / "xdg-state" / "netbank-token"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert state_dir() == tmp_path / "h" / ".local" / "state" / "netbank-token"


@pytest.mark.parametrize("inside", ["vault_folder", "token_home"])
def test_a_state_folder_inside_the_data_folder_is_refused(
    vault_path: Path,
    manual_clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    inside: str,
) -> None:
    if inside == "vault_folder":
        monkeypatch.setenv("NETBANK_TOKEN_SECRET_DIR", str(vault_path.parent / "secret"))
    else:
        monkeypatch.setenv("NETBANK_TOKEN_HOME", str(tmp_path / "data"))
        monkeypatch.setenv("NETBANK_TOKEN_SECRET_DIR", str(tmp_path / "data" / "state"))
    with pytest.raises(StateFolderError):
        _vault(vault_path, manual_clock).create(FILE_PIN, [make_token()])
    assert not vault_path.exists()
    assert not (vault_path.parent / "secret").exists()
    assert not (tmp_path / "data" / "state").exists()


def test_a_secret_file_next_to_an_older_vault_moves_out_of_its_folder(
    vault_path: Path, manual_clock: ManualClock, state_dir: Path
) -> None:
    _vault(vault_path, manual_clock).create(FILE_PIN, [make_token()])
    vault_id = json.loads(vault_path.read_text())["vault_id"]
    # As an earlier version left it: the secret beside the vault, no state folder.
    legacy = vault_path.with_name("vault.device-secret")
    shutil.move(state_dir / f"{vault_id}.device-secret", legacy)
    shutil.rmtree(state_dir)

    assert _vault(vault_path, manual_clock).unlock(FILE_PIN).tokens

    assert not legacy.exists()
    assert (state_dir / f"{vault_id}.device-secret").exists()


# --- the wrong-PIN counter outside the vault -----------------------------------------------


@pytest.mark.parametrize("mode", ["file", "keyring"])
def test_restoring_an_older_vault_file_does_not_reset_the_wrong_pin_counter(
    vault_path: Path,
    manual_clock: ManualClock,
    mode: str,
    request: pytest.FixtureRequest,
) -> None:
    if mode == "keyring":
        request.getfixturevalue("machine_keyring")
    pin = FILE_PIN if mode == "file" else PIN
    vault = _vault(vault_path, manual_clock)
    vault.create(pin, [make_token()])
    backup = vault_path.read_bytes()  # the data folder's backup, taken now
    for _ in range(3):
        with pytest.raises(WrongPinError):
            vault.unlock("00000000")
        manual_clock.advance(3600)
    assert vault.status().failures == 3

    vault_path.write_bytes(backup)  # the older file put back

    assert vault.status().failures == 3
    with pytest.raises(WrongPinError) as caught:
        vault.unlock("00000000")
    assert caught.value.attempts_left == 6
    with pytest.raises(PinDelayError):  # and the waiting it brings holds too
        vault.unlock(pin)


def test_restoring_the_vault_file_cannot_buy_tries_past_the_wipe(
    vault_path: Path, manual_clock: ManualClock
) -> None:
    vault = _vault(vault_path, manual_clock)
    vault.create(FILE_PIN, [make_token()])
    backup = vault_path.read_bytes()
    for _ in range(9):  # each wrong PIN on the older file put back
        manual_clock.advance(10**6)
        vault_path.write_bytes(backup)
        with pytest.raises(WrongPinError):
            vault.unlock("00000000")
    manual_clock.advance(10**6)
    vault_path.write_bytes(backup)
    with pytest.raises(VaultWipedError):
        vault.unlock("00000000")
    assert not vault_path.exists()


def test_the_counter_file_is_checked(
    vault_path: Path, manual_clock: ManualClock, state_dir: Path
) -> None:
    vault = _vault(vault_path, manual_clock)
    vault.create(FILE_PIN, [make_token()])
    with pytest.raises(WrongPinError):
        vault.unlock("00000000")
    [counter] = state_dir.glob("*.pin-failures")
    doc = json.loads(counter.read_text())
    assert doc["failures"] == 1
    doc["failures"] = 0
    counter.write_text(json.dumps(doc))
    with pytest.raises(VaultTamperedError):
        vault.status()


def test_a_right_pin_resets_the_counter_outside_too(
    vault_path: Path, manual_clock: ManualClock, state_dir: Path
) -> None:
    vault = _vault(vault_path, manual_clock)
    vault.create(FILE_PIN, [make_token()])
    with pytest.raises(WrongPinError):
        vault.unlock("00000000")
    vault.unlock(FILE_PIN)
    [counter] = state_dir.glob("*.pin-failures")
    assert json.loads(counter.read_text())["failures"] == 0
    vault.wipe()
    assert not counter.exists()


# --- Argon2 parameters -----------------------------------------------------------------------


def test_file_mode_uses_the_costlier_argon2_and_keyring_mode_keeps_its_own() -> None:
    assert default_kdf("file") == FILE_KDF
    assert default_kdf("keyring") == PRODUCTION_KDF
    assert FILE_KDF.memory_cost == 256 * 1024
    assert FILE_KDF.memory_cost >= 4 * PRODUCTION_KDF.memory_cost
    assert FILE_KDF.time_cost >= PRODUCTION_KDF.time_cost


def test_a_vault_made_with_older_parameters_opens_and_moves_to_the_current_ones(
    vault_path: Path, manual_clock: ManualClock
) -> None:
    old = KdfParams(time_cost=1, memory_cost=8, parallelism=1)
    current = KdfParams(time_cost=2, memory_cost=64, parallelism=2)
    _vault(vault_path, manual_clock, kdf=old).create(FILE_PIN, [make_token()])
    header = json.loads(vault_path.read_text())["kdf"]
    assert (header["time_cost"], header["memory_cost"]) == (1, 8)

    opened = _vault(vault_path, manual_clock, kdf=current).unlock(FILE_PIN)

    assert opened.tokens
    header = json.loads(vault_path.read_text())["kdf"]
    assert (header["time_cost"], header["memory_cost"], header["parallelism"]) == (2, 64, 2)
    # Opens again under the new parameters; an app with the old defaults still reads them.
    assert _vault(vault_path, manual_clock, kdf=old).unlock(FILE_PIN).tokens
    assert json.loads(vault_path.read_text())["kdf"]["memory_cost"] == 64


def test_a_file_vault_with_a_short_pin_from_before_still_opens_and_says_so(
    vault_path: Path, manual_clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from netbank.token_app import vault as vault_module

    # Made before the 8-digit rule: the rule then was only 4–8 digits.
    with monkeypatch.context() as patched:
        patched.setattr(vault_module, "pin_check_new", lambda pin, kind: None)
        _vault(vault_path, manual_clock).create(PIN, [make_token()])

    opened = _vault(vault_path, manual_clock).unlock(PIN)
    assert opened.tokens
    assert not opened.pin_meets_current_rule
    opened.change_pin(FILE_PIN)
    assert _vault(vault_path, manual_clock).unlock(FILE_PIN).pin_meets_current_rule
