"""The body of a spawned verifier process (test_verification_race).

Kept apart from the test module: a spawned interpreter imports the module of its target
before Django is set up, so this module imports nothing from Django at the top.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any


def verify_in_process(
    db_name: str, now: str, token_pk: int, code: str, barrier: Any, queue: Any
) -> None:
    """Its own interpreter, its own Django, its own database connection."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "netbank.config.test_settings"
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, connections

    from netbank import clock
    from netbank.otp.models import Token
    from netbank.otp.verification import otp_verify

    # The parent runs inside pytest-django's test database; point this process at it.
    settings.DATABASES["default"]["NAME"] = db_name
    connections["default"].settings_dict["NAME"] = db_name
    clock.set_now(datetime.fromisoformat(now))
    try:
        token = Token.objects.get(pk=token_pk)
        barrier.wait(timeout=60)
        queue.put(str(otp_verify(token=token, code=code, channel="race").result))
    except Exception as exc:
        queue.put(f"error: {exc!r}")
        raise
    finally:
        connection.close()
