"""The vault: encryption, app lock, tamper refusal, wipe, device binding."""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from netbank.token_app import vault as vault_module
from netbank.token_app.devicesecret import FileSecretStore, KeyringSecretStore
from netbank.token_app.vault import (
    FILE_KDF,
    MAX_PIN_FAILURES,
    PRODUCTION_KDF,
    DeviceSecretMissingError,
    InvalidPinError,
    KeyringUnavailableError,
    PinDelayError,
    Vault,
    VaultChangedError,
    VaultExistsError,
    VaultNotFoundError,
    VaultTamperedError,
    VaultWipedError,
    WrongPinError,
    failure_delay,
)
from tests.token_app.conftest import CHEAP_KDF, PIN, ManualClock, make_token
from tests.token_app.keyring_backend import MachineKeyring

FILE_PIN = "48213795"  # 8 digits: a vault without a keyring asks for them


def _doc(path: Path) -> dict[str, object]:
    return json.loads(path.read_text())


def _write_doc(path: Path, doc: dict[str, object]) -> None:
    path.write_text(json.dumps(doc))


def test_tokens_survive_lock_and_unlock(vault: Vault) -> None:
    vault.create(PIN, [make_token("JAネットバンク"), make_token("信連", user_id="111122223333")])
    opened = vault.unlock(PIN)
    assert [t.label for t in opened.tokens] == ["JAネットバンク", "信連"]
    assert opened.find("信連").seed == bytes(range(20))
    assert opened.find("jaネットバンク").user_id == "394817265043"


def test_vault_file_is_owner_only_and_holds_no_plaintext(vault: Vault, vault_path: Path) -> None:
    vault.create(PIN, [make_token("MyBankLabel")])
    assert stat.S_IMODE(vault_path.stat().st_mode) == 0o600
    raw = vault_path.read_bytes()
    for secret_text in (b"MyBankLabel", b"394817265043", b"bank.example.jp", b"100001"):
        assert secret_text not in raw
    assert base64.b64encode(bytes(range(20))) not in raw
    assert not [p for p in vault_path.parent.iterdir() if p.name.endswith(".tmp")]


def test_creating_over_an_existing_vault_is_refused(vault: Vault) -> None:
    vault.create(PIN, [make_token()])
    with pytest.raises(VaultExistsError):
        vault.create("9999", [])
    assert vault.unlock(PIN).tokens


def test_wrong_pin_reveals_nothing(vault: Vault, vault_path: Path) -> None:
    vault.create(PIN, [make_token("秘密の口座")])
    with pytest.raises(WrongPinError) as caught:
        vault.unlock("0000")
    err = caught.value
    assert err.attempts_left == MAX_PIN_FAILURES - 1
    assert err.retry_at is None
    shown = str(err) + repr(err.args) + repr(vars(err))
    assert "秘密の口座" not in shown
    assert "394817265043" not in shown
    # The file still opens with the right PIN and the counter is back to zero.
    assert vault.unlock(PIN).tokens[0].label == "秘密の口座"
    assert vault.status().failures == 0


def test_malformed_pin_is_rejected_without_counting(vault: Vault) -> None:
    vault.create(PIN, [make_token()])
    for bad in ("123", "123456789", "12a4", "１２３４", ""):
        with pytest.raises(InvalidPinError):
            vault.unlock(bad)
    assert vault.status().failures == 0


def test_wrong_pins_slow_down_exponentially(vault: Vault, manual_clock: ManualClock) -> None:
    vault.create(PIN, [make_token()])
    for _ in range(2):
        with pytest.raises(WrongPinError) as caught:
            vault.unlock("0000")
        assert caught.value.retry_at is None
    waits = []
    for _ in range(5):
        with pytest.raises(WrongPinError) as caught:
            vault.unlock("0000")
        assert caught.value.retry_at is not None
        wait = caught.value.retry_at - manual_clock()
        waits.append(wait)
        # Too early: refused without trying, even with the right PIN.
        manual_clock.advance(wait - 1)
        with pytest.raises(PinDelayError) as early:
            vault.unlock(PIN)
        assert early.value.wait_seconds == pytest.approx(1)
        manual_clock.advance(1)
    assert waits == [15, 30, 60, 120, 240]
    assert vault.status().failures == 7
    assert len(vault.unlock(PIN).tokens) == 1
    assert vault.status().failures == 0


def test_setting_the_clock_back_does_not_shorten_the_wait(
    vault: Vault, manual_clock: ManualClock
) -> None:
    vault.create(PIN, [make_token()])
    for _ in range(3):
        with pytest.raises(WrongPinError):
            vault.unlock("0000")
    manual_clock.advance(-3600)
    with pytest.raises(PinDelayError):
        vault.unlock(PIN)


def test_tenth_wrong_pin_wipes_the_vault_after_warnings(
    vault: Vault,
    vault_path: Path,
    manual_clock: ManualClock,
    machine_keyring: MachineKeyring,
) -> None:
    vault.create(PIN, [make_token()])
    assert machine_keyring.entries() == 1
    warnings = []
    for attempt in range(1, MAX_PIN_FAILURES):
        with pytest.raises(WrongPinError) as caught:
            vault.unlock("0000")
        assert caught.value.attempts_left == MAX_PIN_FAILURES - attempt
        warnings.append(caught.value.warn)
        manual_clock.advance(failure_delay(attempt))
        status = vault.status()
        assert status.retry_at is None
        assert status.warn == (status.attempts_left <= 3)
    # Warned on the 7th, 8th and 9th failure: three, two, then one try left.
    assert warnings == [False] * 6 + [True] * 3
    with pytest.raises(VaultWipedError):
        vault.unlock("0000")
    assert not vault_path.exists()
    assert machine_keyring.entries() == 0
    with pytest.raises(VaultNotFoundError):
        vault.unlock(PIN)


def test_a_try_counts_even_if_the_app_is_killed_during_key_derivation(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault.create(PIN, [make_token()])

    def killed(*args: object, **kwargs: object) -> bytes:
        raise KeyboardInterrupt

    monkeypatch.setattr(vault_module, "_vault_key", killed)
    with pytest.raises(KeyboardInterrupt):
        vault.unlock("0000")
    monkeypatch.undo()
    assert vault.status().failures == 1


@pytest.mark.parametrize(
    ("what", "edit"),
    [
        ("ciphertext", lambda d: d.update(ciphertext=_flip(d["ciphertext"]))),
        ("nonce", lambda d: d.update(nonce=_flip(d["nonce"]))),
        ("cheaper kdf", lambda d: d["kdf"].update(memory_cost=16)),
        ("new salt", lambda d: d["kdf"].update(salt=base64.b64encode(b"s" * 16).decode())),
        ("counter reset", lambda d: d["lock"].update(failures=0)),
        ("mac removed", lambda d: d.pop("mac")),
        ("extra field", lambda d: d.update(note="hi")),
        ("generation", lambda d: d.update(generation=d["generation"] + 1)),
        ("store kind", lambda d: d.update(device_secret="file")),
    ],
)
def test_tampered_vault_is_refused_before_any_pin(
    vault: Vault, vault_path: Path, what: str, edit: object
) -> None:
    vault.create(PIN, [make_token()])
    with pytest.raises(WrongPinError):
        vault.unlock("0000")  # the counter is part of what must not be editable
    doc = _doc(vault_path)
    edit(doc)  # type: ignore[operator]
    _write_doc(vault_path, doc)
    with pytest.raises((VaultTamperedError, DeviceSecretMissingError)):
        vault.unlock(PIN)
    with pytest.raises((VaultTamperedError, DeviceSecretMissingError)):
        vault.status()


def _flip(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[len(raw) // 2] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"[]", b'{"format": "other"}', b"\xff\xfe garbage", b"x" * (2 << 20)],
)
def test_garbage_in_the_vault_file_is_refused(
    vault: Vault, vault_path: Path, content: bytes
) -> None:
    vault.create(PIN, [make_token()])
    vault_path.write_bytes(content)
    with pytest.raises(VaultTamperedError):
        vault.unlock(PIN)


def test_copied_vault_is_useless_on_another_machine(
    vault: Vault, vault_path: Path, tmp_path: Path, manual_clock: ManualClock
) -> None:
    import keyring

    vault.create(PIN, [make_token()])
    other_home = tmp_path / "other-machine"
    other_home.mkdir()
    copied = other_home / "vault.json"
    shutil.copy2(vault_path, copied)

    # Another machine: its own keyring, without this vault's device secret.
    other_ring = MachineKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(other_ring)
    try:
        other = Vault(copied, kdf=CHEAP_KDF, clock=manual_clock)
        with pytest.raises(DeviceSecretMissingError):
            other.unlock(PIN)  # even the right PIN cannot open it
        # An attacker who plants a secret of their own under the vault's id gets nowhere.
        vault_id = _doc(copied)["vault_id"]
        KeyringSecretStore().store(str(vault_id), os.urandom(32))
        with pytest.raises(VaultTamperedError):
            other.unlock(PIN)
    finally:
        keyring.set_keyring(previous)
    # The original still opens on its own machine.
    assert vault.unlock(PIN).tokens


@pytest.mark.usefixtures("no_keyring")
def test_without_a_keyring_the_device_secret_is_a_private_file_in_the_state_folder(
    vault_path: Path, tmp_path: Path, manual_clock: ManualClock, state_dir: Path
) -> None:
    vault = Vault(vault_path, kdf=CHEAP_KDF, clock=manual_clock)
    opened = vault.create(FILE_PIN, [make_token()])
    assert opened.device_secret_kind == "file"
    [secret_file] = state_dir.glob("*.device-secret")
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert _doc(vault_path)["device_secret"] == "file"
    assert vault.unlock(FILE_PIN).tokens

    # The vault file copied alone (without the state folder) cannot be opened.
    elsewhere = tmp_path / "copy" / "vault.json"
    elsewhere.parent.mkdir()
    shutil.copy2(vault_path, elsewhere)
    with pytest.raises(DeviceSecretMissingError):
        Vault(elsewhere, kdf=CHEAP_KDF, clock=manual_clock, state_dir=tmp_path / "other").unlock(
            FILE_PIN
        )

    # Wiping takes the secret file too, so the copy can never be opened later.
    vault.wipe()
    assert not vault_path.exists()
    assert not secret_file.exists()


def test_keyring_vault_refuses_a_machine_whose_keyring_stopped_working(
    vault: Vault, vault_path: Path, manual_clock: ManualClock
) -> None:
    import keyring
    from keyring.backends import fail

    vault.create(PIN, [make_token()])
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        # Said as "the keyring is unusable now", not as "a vault from another device".
        with pytest.raises(KeyringUnavailableError):
            Vault(vault_path, kdf=CHEAP_KDF, clock=manual_clock).unlock(PIN)
    finally:
        keyring.set_keyring(previous)


def test_explicit_store_of_the_wrong_kind_is_refused(
    vault: Vault, vault_path: Path, manual_clock: ManualClock
) -> None:
    vault.create(PIN, [make_token()])
    store = FileSecretStore(vault_path.parent)
    with pytest.raises(DeviceSecretMissingError):
        Vault(vault_path, secret_store=store, kdf=CHEAP_KDF, clock=manual_clock).unlock(PIN)


def test_a_failed_write_leaves_the_old_vault_whole(
    vault: Vault, vault_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = vault.create(PIN, [make_token()])
    before = vault_path.read_bytes()

    def disk_full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        opened.add(make_token("second", user_id="222233334444"))
    monkeypatch.undo()
    assert vault_path.read_bytes() == before
    assert [t.label for t in opened.tokens] == ["JAネットバンク"]
    assert not [p for p in vault_path.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_failed_first_write_leaves_no_secret_behind(
    vault: Vault,
    vault_path: Path,
    machine_keyring: MachineKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def disk_full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        vault.create(PIN, [make_token()])
    assert not vault_path.exists()
    assert machine_keyring.entries() == 0


def test_add_remove_and_change_pin(vault: Vault) -> None:
    opened = vault.create(PIN, [make_token()])
    opened.add(make_token("信連", user_id="111122223333"))
    with pytest.raises(ValueError, match="exists"):
        opened.add(make_token("信連", user_id="999988887777"))
    assert opened.unique_label("信連") == "信連 (2)"
    opened.remove("JAネットバンク")
    opened.change_pin("87654321")
    with pytest.raises(WrongPinError):
        vault.unlock(PIN)
    assert [t.label for t in vault.unlock("87654321").tokens] == ["信連"]


def test_a_second_window_cannot_overwrite_newer_changes(vault: Vault) -> None:
    vault.create(PIN, [make_token()])
    first = vault.unlock(PIN)
    second = vault.unlock(PIN)
    first.add(make_token("信連", user_id="111122223333"))
    with pytest.raises(VaultChangedError):
        second.remove("JAネットバンク")
    assert [t.label for t in vault.unlock(PIN).tokens] == ["JAネットバンク", "信連"]


def test_wipe_removes_file_and_device_secret(
    vault: Vault, vault_path: Path, machine_keyring: MachineKeyring
) -> None:
    vault.create(PIN, [make_token()])
    vault.wipe()
    assert not vault_path.exists()
    assert machine_keyring.entries() == 0


def test_production_key_derivation_defaults() -> None:
    # RFC 9106 section 4, second recommended option.
    assert PRODUCTION_KDF.time_cost == 3
    assert PRODUCTION_KDF.memory_cost == 64 * 1024
    assert PRODUCTION_KDF.parallelism == 4
    assert Vault(Path("unused")).kdf_for("keyring") == PRODUCTION_KDF
    assert Vault(Path("unused")).kdf_for("file") == FILE_KDF
