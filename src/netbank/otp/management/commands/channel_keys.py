"""``netbank channel-keys``: API keys of the bank's other channels (POST /api/v1/verify).

    netbank channel-keys create NAME   a new key; printed once, stored only as SHA-256
    netbank channel-keys list          every key: name, prefix, created, revoked
    netbank channel-keys revoke NAME   the channel's calls are refused from now on

A channel holds at most one active key; to replace one, revoke it and create another.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from netbank.otp.channels.services import (
    ChannelKeyError,
    channel_key_create,
    channel_key_revoke,
    channel_keys,
)


class Command(BaseCommand):
    help = "Create, list and revoke the API keys of the bank's other channels."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = sub.add_parser("create", help="create a key for a channel (shown once)")
        create.add_argument("name", help="channel name, e.g. telephone or branch-system")
        sub.add_parser("list", help="list every key (never the keys themselves)")
        revoke = sub.add_parser("revoke", help="revoke the channel's active key")
        revoke.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "create":
                created = channel_key_create(name=options["name"])
                self.stdout.write(created.key)
                self.stderr.write(
                    f"Key for channel {created.row.name!r} created. It is shown only now: "
                    "give it to the channel's operators over a secure path."
                )
            elif action == "revoke":
                row = channel_key_revoke(name=options["name"])
                self.stdout.write(f"revoked {row.name} ({row.key_prefix}…)")
            else:
                self._list()
        except ChannelKeyError as exc:
            raise CommandError(str(exc)) from None

    def _list(self) -> None:
        rows = channel_keys()
        if not rows:
            self.stdout.write("no channel keys")
            return
        self.stdout.write(f"{'NAME':<32} {'PREFIX':<12} {'CREATED':<25} STATUS")
        for row in rows:
            created = timezone.localtime(row.created_at).isoformat(timespec="seconds")
            if row.revoked_at is None:
                status = "active"
            else:
                revoked = timezone.localtime(row.revoked_at).isoformat(timespec="seconds")
                status = f"revoked {revoked}"
            self.stdout.write(f"{row.name:<32} {row.key_prefix:<12} {created:<25} {status}")
