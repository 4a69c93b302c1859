"""The lock files bin/test and bin/demo install from agree with the pins they were made from.

bin/lock writes requirements/*.lock from pyproject.toml, token-app/pyproject.toml and
requirements/build.in; a pin changed in one of those without rerunning bin/lock fails here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked(lock: str) -> dict[str, str]:
    """name -> version of every entry, checking each carries at least one hash."""
    text = (LOCKS / lock).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
    pins: dict[str, str] = {}
    for entry in entries:
        match = re.match(r"([A-Za-z0-9._-]+)==([^\s;\\]+)", entry)
        assert match, entry[:80]
        assert "--hash=sha256:" in entry, f"{lock}: {match.group(0)} has no hash"
        pins[_canonical(match.group(1))] = match.group(2)
    return pins


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for line in requirements:
        requirement = Requirement(line)
        if _canonical(requirement.name) == "netbank-otp":
            continue  # an extra naming another extra of the project itself
        (spec,) = requirement.specifier
        assert spec.operator == "==", line
        pins[_canonical(requirement.name)] = spec.version
    return pins


BANK = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
TOKEN = tomllib.loads((ROOT / "token-app" / "pyproject.toml").read_text())["project"]
BUILD = [
    line
    for line in (LOCKS / "build.in").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]
EXPECTED = {
    "production.lock": _pins(BANK["dependencies"] + BUILD),
    "demo.lock": _pins(BANK["dependencies"] + BANK["optional-dependencies"]["demo"] + BUILD),
    "test.lock": _pins(
        BANK["dependencies"]
        + BANK["optional-dependencies"]["demo"]
        + BANK["optional-dependencies"]["test"]
        + BUILD
    ),
    "token.lock": _pins(TOKEN["dependencies"]),
}


@pytest.mark.parametrize("lock", sorted(EXPECTED))
def test_every_pin_is_locked_at_its_version(lock: str) -> None:
    locked = _locked(lock)
    assert {name: locked.get(name) for name in EXPECTED[lock]} == EXPECTED[lock]


def test_the_demo_and_the_token_app_lock_no_test_tool_and_production_no_demo_server() -> None:
    assert {"pytest", "playwright", "mypy"} & set(_locked("demo.lock")) == set()
    assert {"aiosmtpd", "waitress", "textual"} & set(_locked("production.lock")) == set()
    assert {"django", "psycopg", "granian", "waitress", "aiosmtpd"} & set(
        _locked("token.lock")
    ) == set()


@pytest.mark.parametrize("lock", sorted(EXPECTED))
def test_a_lock_names_no_package_index(lock: str) -> None:
    """Installs go through pip's own configuration; a lock never names where packages live."""
    text = (LOCKS / lock).read_text()
    assert (
        re.search(r"://|--(extra-)?index-url|--find-links|--trusted-host|^-[if] ", text, re.M)
        is None
    )
