"""Argon2id with the bank's parameters from settings.NETBANK_ARGON2."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class NetbankArgon2PasswordHasher(Argon2PasswordHasher):
    """Django's Argon2id hasher, with cost parameters taken from settings.

    Django re-hashes on the next successful check when the parameters change,
    so raising the cost needs no migration.
    """

    def params(self) -> Any:
        argon2 = self._load_library()  # type: ignore[attr-defined]
        return argon2.Parameters(
            type=argon2.low_level.Type.ID,
            version=argon2.low_level.ARGON2_VERSION,
            salt_len=argon2.DEFAULT_RANDOM_SALT_LENGTH,
            hash_len=argon2.DEFAULT_HASH_LENGTH,
            time_cost=int(settings.NETBANK_ARGON2["time_cost"]),
            memory_cost=int(settings.NETBANK_ARGON2["memory_cost"]),
            parallelism=int(settings.NETBANK_ARGON2["parallelism"]),
        )
