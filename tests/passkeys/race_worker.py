"""The body of a spawned process presenting a passkey assertion (test_race).

Kept apart from the test module: a spawned interpreter imports the module of its target
before Django is set up, so this module imports nothing from Django at the top.
"""

from __future__ import annotations

import json
import os
from typing import Any


def authenticate_in_process(
    db_name: str, public_url: str, response_json: str, barrier: Any, queue: Any
) -> None:
    """Its own interpreter, its own Django, its own database connection."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "netbank.config.test_settings"
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, connections

    from netbank.passkeys.services import authenticate

    settings.DATABASES["default"]["NAME"] = db_name
    connections["default"].settings_dict["NAME"] = db_name
    settings.NETBANK_PUBLIC_URL = public_url
    try:
        response = json.loads(response_json)
        barrier.wait(timeout=60)
        outcome = authenticate(response=response, purpose="login", ip="198.51.100.9")
        queue.put(outcome.reason)
    except Exception as exc:
        queue.put(f"error: {exc!r}")
        raise
    finally:
        connection.close()
