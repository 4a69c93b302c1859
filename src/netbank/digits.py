"""ASCII digits, the only digits an id or a number may arrive as.

``str.isdigit()`` is true for 「²」, 「①」 and Arabic-Indic digits that ``int()`` refuses
or reads differently, and ``int()`` refuses more than 4,300 digits; every id, code and
number that comes in is checked here first. Free of Django, so the OATH library and the
token app use it too. (Customers' full-width digits are normalised by the forms before
they get here.)
"""

from __future__ import annotations

import re
from typing import TypeGuard

_ASCII_DIGITS = re.compile(r"[0-9]+")

# A database id is a 64-bit integer: at most 19 digits.
ID_MAX_DIGITS = 18


def is_ascii_digits(
    value: object, *, length: int | None = None, max_length: int = 64
) -> TypeGuard[str]:
    """``value`` is a string of ASCII digits only: exactly ``length`` of them when given,
    otherwise 1 to ``max_length``."""
    if not isinstance(value, str):
        return False
    if length is not None:
        if len(value) != length:
            return False
    elif not 1 <= len(value) <= max_length:
        return False
    return _ASCII_DIGITS.fullmatch(value) is not None


def parse_id(value: object, *, max_length: int = ID_MAX_DIGITS) -> int | None:
    """A positive id typed as ASCII digits, or None for anything else."""
    if not is_ascii_digits(value, max_length=max_length):
        return None
    number = int(str(value))
    return number if number > 0 else None
