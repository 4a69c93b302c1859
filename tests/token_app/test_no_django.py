"""The token app runs on a phone-like client: it must never import Django."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    import netbank.token_app as app
    names = ["netbank.oath.activation", "netbank.oath.totp"]
    names += [
        m.name
        for m in pkgutil.walk_packages(app.__path__, "netbank.token_app.")
        if not m.name.endswith("__main__")
    ]
    for name in names:
        importlib.import_module(name)
    assert "netbank.token_app.client" in sys.modules
    assert "netbank.token_app.install_config" in sys.modules
    leaked = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
    print("IMPORTED", len(names), "LEAKED", leaked)
    sys.exit(1 if leaked else 0)
    """
)


def test_token_app_imports_no_django() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(REPO / "src")
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "LEAKED []" in result.stdout
