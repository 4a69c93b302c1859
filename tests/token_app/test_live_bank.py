"""The CLI against the bank itself: Django's live server, over real HTTP.

The app's code under test imports no Django; only this test does, to run the server and
to check with the server's own verification that the code the app shows is accepted.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pytest_django.live_server_helper import LiveServer

from netbank import clock
from netbank.oath import activation as proto
from netbank.oath.bankkeys import BankKey, key_id_for
from netbank.otp.activation.signing_key import signing_public_key_text
from netbank.otp.models import Token
from netbank.otp.verification import Result, otp_verify
from netbank.token_app import cli
from netbank.token_app.client import client_from_install_config
from netbank.token_app.install_config import InstallConfig, install_config_write
from tests.otp.factories import ACTIVATION_PASSWORD, issue_token
from tests.token_app.conftest import PIN, ManualClock
from tests.token_app.keyring_backend import MachineKeyring
from tests.token_app.test_cli import CliRunner
from tests.token_app.test_cli import Result as CliResult

pytestmark = pytest.mark.django_db(transaction=True)


class BankClock(ManualClock):
    """The app reads the server's pinned clock, so both sides agree on the time step."""

    def __call__(self) -> float:
        return clock.timestamp()


def _runner(vault_path: Path) -> CliRunner:
    runner = CliRunner(vault_path=vault_path, clock=BankClock())
    runner.client_factory = lambda config: client_from_install_config(
        config, timeout=10.0, sleep=lambda seconds: None, clock=clock.timestamp
    )
    return runner


def _install(path: Path, url: str, key: str) -> Path:
    install_config_write(
        path,
        InstallConfig(
            bank_url=url,
            bank_key=BankKey(key_id_for(key), key, 4102444800),
            bank_name="JAネットバンク",
            service_id="100001",
        ),
    )
    return path


def _setup(runner: CliRunner, config: Path, user_id: str, password: str) -> CliResult:
    return runner(
        "setup",
        "--service-id",
        "100001",
        "--user-id",
        user_id,
        "--bank-config",
        str(config),
        "--password-stdin",
        "--pin-stdin",
        "--json",
        stdin=f"{password}\n{PIN}\n",
    )


@pytest.mark.usefixtures("machine_keyring")
def test_setup_against_the_bank_gives_codes_the_bank_accepts(
    live_server: LiveServer, frozen_clock: datetime, vault_path: Path, tmp_path: Path
) -> None:
    token = issue_token()
    config = _install(tmp_path / "install.json", live_server.url, signing_public_key_text())
    runner = _runner(vault_path)

    wrong = _setup(runner, config, token.user_id, "0000")
    assert wrong.exit_code == cli.EXIT_REFUSED
    assert not vault_path.exists()

    done = _setup(runner, config, token.user_id, ACTIVATION_PASSWORD)
    assert done.exit_code == cli.EXIT_OK, done.stdout
    data = done.json()
    assert data["token"]["user_id"] == token.user_id
    assert data["clock_skew_warning"] is False
    token.refresh_from_db()
    assert token.state == Token.State.ACTIVATED
    assert token.activation_failures == 1

    code = runner("code", "--json", "--pin-stdin", stdin=PIN + "\n").json()["code"]
    outcome = otp_verify(token=token, code=code, channel="test", states=(Token.State.ACTIVATED,))
    assert outcome.result is Result.ACCEPTED


@pytest.mark.usefixtures("machine_keyring")
def test_a_bank_key_that_is_not_the_installed_one_is_refused(
    live_server: LiveServer,
    frozen_clock: datetime,
    vault_path: Path,
    tmp_path: Path,
    machine_keyring: MachineKeyring,
) -> None:
    token = issue_token()
    impostor_key = proto.ed25519_public_text(Ed25519PrivateKey.generate().public_key())
    config = _install(tmp_path / "install.json", live_server.url, impostor_key)
    runner = _runner(vault_path)
    result = _setup(runner, config, token.user_id, ACTIVATION_PASSWORD)
    assert result.exit_code == cli.EXIT_SERVER
    assert result.json()["error"]["code"] == "untrusted_answer"
    assert not vault_path.exists()
    assert machine_keyring.entries() == 0
    token.refresh_from_db()
    assert token.state == Token.State.ISSUED
