"""The test-selection hooks in tests/conftest.py.

CI relies on them: the SQLite pass may skip browser and PostgreSQL-only tests, but
a CI run that asked for a browser or for PostgreSQL must fail loudly when it lacks
one, never pass by skipping everything that matters.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connection

from tests.browser.support import REPO_ROOT

HARNESS = "tests/browser/test_harness.py"
USAGE_ERROR = 4  # pytest's exit code for a usage error


def _pytest(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NETBANK_REQUIRE_", "PYTEST_", "DJANGO_ALLOW_ASYNC"))
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args],
        cwd=REPO_ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_postgres_only_tests_run_only_on_postgresql() -> None:
    assert connection.vendor == "postgresql"


@pytest.mark.slow  # a pytest run in a subprocess
def test_browser_tests_are_skipped_without_chromium() -> None:
    result = _pytest(HARNESS, NETBANK_CHROMIUM="/nonexistent/chromium")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 skipped" in result.stdout
    assert "/nonexistent/chromium not installed" in result.stdout


@pytest.mark.slow  # a pytest run in a subprocess
def test_missing_chromium_fails_the_run_when_a_browser_is_required() -> None:
    result = _pytest(HARNESS, NETBANK_CHROMIUM="/nonexistent/chromium", NETBANK_REQUIRE_BROWSER="1")
    assert result.returncode == USAGE_ERROR, result.stdout + result.stderr
    assert "NETBANK_REQUIRE_BROWSER=1 but /nonexistent/chromium is missing" in result.stderr


@pytest.mark.slow  # a pytest run in a subprocess
def test_postgres_only_test_is_skipped_on_sqlite() -> None:
    result = _pytest(
        f"{__file__}::test_postgres_only_tests_run_only_on_postgresql", DATABASE_URL=""
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "needs PostgreSQL" in result.stdout


@pytest.mark.slow  # a pytest run in a subprocess
def test_sqlite_fails_the_run_when_postgresql_is_required() -> None:
    result = _pytest(
        f"{__file__}::test_postgres_only_tests_run_only_on_postgresql",
        DATABASE_URL="",
        NETBANK_REQUIRE_POSTGRES="1",
    )
    assert result.returncode == USAGE_ERROR, result.stdout + result.stderr
    assert "NETBANK_REQUIRE_POSTGRES=1 but the test database is not PostgreSQL" in result.stderr
