"""The bank runs without the demo extra: aiosmtpd and waitress are `netbank demo`'s only.

A fresh process where neither can be imported (as in a production install, which has
neither) loads the settings, both WSGI entry points and every URL, passes Django's system
checks, and `netbank demo` says which extra it needs instead of failing on an import.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CODE = """
import sys
sys.modules["aiosmtpd"] = None
sys.modules["waitress"] = None
import django
django.setup()
import netbank.config.urls, netbank.config.wsgi, netbank.config.wsgi_api
from django.core.management import call_command, CommandError
call_command("check")
try:
    call_command("demo", "--port", "0", "--smtp-port", "0")
except CommandError as error:
    print("refused:", error)
"""


def test_the_bank_needs_neither_aiosmtpd_nor_waitress(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "netbank.config.test_settings",
        "NETBANK_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "refused: netbank demo needs the demo extra (aiosmtpd, waitress not installed)" in (
        result.stdout
    )
    assert "pip install 'netbank-otp[demo]'" in result.stdout
