"""The PostgreSQL connection settings taken from the environment (config.settings)."""

from __future__ import annotations

import pytest

from netbank.config import settings as settings_module

URL = "postgres://bank@db.example:5432/netbank"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DB_SERVER_SIDE_BINDING", "DB_PREPARE_THRESHOLD", "DB_POOL", "DB_CONN_MAX_AGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", URL)


def _options() -> dict[str, object]:
    options = settings_module._database()["OPTIONS"]
    assert isinstance(options, dict)
    return options


def test_server_side_binding_is_on_by_default_and_prepares_on_the_fifth_use() -> None:
    options = _options()
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5


@pytest.mark.parametrize("value", ["0", "false", "no", "off"])
def test_server_side_binding_can_be_switched_off_for_a_transaction_pooler(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("DB_SERVER_SIDE_BINDING", value)
    options = _options()
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options


def test_prepare_threshold_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PREPARE_THRESHOLD", "1")
    assert _options()["prepare_threshold"] == 1


def test_options_from_the_url_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", URL + "?sslmode=verify-full")
    options = _options()
    assert options["sslmode"] == "verify-full"
    assert options["server_side_binding"] is True


def test_the_pool_is_off_by_default_and_replaces_persistent_connections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "pool" not in _options()
    monkeypatch.setenv("DB_POOL", "1")
    db = settings_module._database()
    assert db["CONN_MAX_AGE"] == 0
    assert db["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 8, "timeout": 10}  # type: ignore[index]
