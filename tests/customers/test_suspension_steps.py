"""Each app registers its own part of a suspension from its own ``AppConfig.ready``,
so a customer's own emergency stop suspends tokens whichever console app is installed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.apps import apps

from netbank.banking.suspension import transfers_void_for_suspension
from netbank.customers import suspension
from netbank.otp.tokens.suspension import direct_login_void, tokens_suspend


@pytest.fixture
def empty_registry() -> Iterator[None]:
    """The step registry emptied for the test and restored afterwards."""
    saved = list(suspension._steps)
    suspension._steps.clear()
    try:
        yield
    finally:
        suspension._steps[:] = saved


def _steps() -> list[object]:
    return list(suspension.suspension_steps())


@pytest.mark.usefixtures("empty_registry")
def test_otp_registers_its_token_and_direct_login_steps() -> None:
    apps.get_app_config("otp").ready()

    assert _steps() == [tokens_suspend, direct_login_void]


@pytest.mark.usefixtures("empty_registry")
def test_banking_registers_its_scheduled_transfer_step() -> None:
    apps.get_app_config("banking").ready()

    assert _steps() == [transfers_void_for_suspension]


@pytest.mark.usefixtures("empty_registry")
def test_the_helpdesk_registers_no_other_apps_steps() -> None:
    apps.get_app_config("helpdesk").ready()

    assert _steps() == []


def test_after_start_up_the_steps_run_tokens_then_urls_then_transfers() -> None:
    assert _steps() == [tokens_suspend, direct_login_void, transfers_void_for_suspension]


@pytest.mark.usefixtures("empty_registry")
def test_registering_twice_adds_each_step_once() -> None:
    apps.get_app_config("otp").ready()
    apps.get_app_config("otp").ready()

    assert len(_steps()) == 2
