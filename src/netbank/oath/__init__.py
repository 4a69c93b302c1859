"""OATH algorithms (HOTP, TOTP, OCRA, otpauth URIs) and the activation key agreement.

Pure: no Django, no I/O. The server and the token app both use it.
"""
