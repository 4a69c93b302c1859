"""Fixtures for the token app: cheap Argon2, a hand-moved clock, per-test keyrings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from netbank.token_app.vault import KdfParams, TokenRecord, Vault
from tests.token_app.keyring_backend import MachineKeyring

# Minimum Argon2 cost, so a test unlocks in microseconds. One test asserts the production ones.
CHEAP_KDF = KdfParams(time_cost=1, memory_cost=8, parallelism=1)
PIN = "4821"
START = 1_795_000_000.0  # 2026-11-18, a fixed "now"


class ManualClock:
    """Unix time that moves only when a test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def manual_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def machine_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MachineKeyring]:
    """This test's machine has a working OS keyring (and only this test sees it)."""
    monkeypatch.delenv("NETBANK_TOKEN_NO_KEYRING", raising=False)
    previous: KeyringBackend = keyring.get_keyring()
    ring = MachineKeyring()
    keyring.set_keyring(ring)
    try:
        yield ring
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This test's machine has no usable keyring (keyring's fail backend, as on a server)."""
    previous: KeyringBackend = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def vault_path(tmp_path: Path) -> Path:
    return tmp_path / "home" / "vault.json"


@pytest.fixture
def vault(vault_path: Path, manual_clock: ManualClock, machine_keyring: MachineKeyring) -> Vault:
    return Vault(vault_path, kdf=CHEAP_KDF, clock=manual_clock)


def make_token(label: str = "JAネットバンク", *, user_id: str = "394817265043") -> TokenRecord:
    return TokenRecord(
        label=label,
        bank_url="https://bank.example.jp",
        service_id="100001",
        user_id=user_id,
        seed=bytes(range(20)),
        signing_key=bytes(range(32, 64)),
        algorithm="SHA1",
        digits=6,
        period=30,
        server_time_offset=0.0,
        added_at=START,
    )


@pytest.fixture(autouse=True)
def launch_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where this test's Directログイン pages go (never the machine's shared folder)."""
    folder = tmp_path / "launch"
    monkeypatch.setenv("NETBANK_TOKEN_LAUNCH_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's state folder (device-secret file, PIN counter), outside the vault's."""
    folder = tmp_path / "state"
    monkeypatch.setenv("NETBANK_TOKEN_SECRET_DIR", str(folder))
    return folder
