"""Django's ``flush``, aware that the audit trail is append-only.

Flushing erases every table, the audit trail included, which its database triggers
refuse. Only where ``NETBANK_AUDIT_FLUSH_ALLOWED`` is true (the test settings: the test
runner empties the tables between transactional tests) are the triggers lifted, inside
the flush's own transaction, and put back before it commits. Anywhere else the command
refuses before it touches anything.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import flush
from django.db import connections, transaction

from netbank.audit.guard import guard_lifted


class Command(flush.Command):
    help = (
        "Removes ALL DATA from the database. Refused unless NETBANK_AUDIT_FLUSH_ALLOWED "
        "(test settings only), because the audit trail is append-only."
    )

    def handle(self, **options: Any) -> None:
        if not getattr(settings, "NETBANK_AUDIT_FLUSH_ALLOWED", False):
            raise CommandError(
                "flush would erase the audit trail, which is append-only: refused. "
                "Only the test settings allow it (NETBANK_AUDIT_FLUSH_ALLOWED)."
            )
        if options.get("interactive", True):
            # Ask before the transaction opens, so no lock is held while waiting.
            name = connections[options["database"]].settings_dict["NAME"]
            answer = input(
                f'Erase ALL data, the audit trail included, in the "{name}" database? '
                "Type 'yes' to continue: "
            )
            if answer != "yes":
                self.stdout.write("Flush cancelled.")
                return
        database = options["database"]
        with transaction.atomic(using=database), guard_lifted(connections[database]):
            super().handle(**{**options, "interactive": False})
