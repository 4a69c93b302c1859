"""Passkeys (FIDO2 / WebAuthn): a phishing-resistant credential a customer adds with the OTP.

Registration, login with a passkey and the confirmation service banking builds on; the
rules are in ``services``, the settings in ``conf`` (docs/security.md).
"""
