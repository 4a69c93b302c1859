"""The one error type of the OATH core."""

from __future__ import annotations


class OathError(ValueError):
    """Malformed OATH input: bad key, digits, algorithm, counter, URI or OCRA suite.

    The message says what is wrong in plain words and never contains key material,
    so callers can log it or show it to an operator.
    """
