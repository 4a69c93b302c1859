"""The customer session's keys, on their own so that both the session
(``customers.session``) and the device cookie written after a login
(``customers.login_devices``, which the session asks at login) can read them without
importing each other."""

from __future__ import annotations

CUSTOMER_ID = "customer_id"
SECURITY_COUNTER = "security_counter"
LOGIN_AT = "login_at"
LAST_ACTIVITY = "last_activity"
CHANNEL = "login_channel"
PENDING = "pending_login"
ENDED_REASON = "session_ended"
# Set at a login that passed without OTP while the bank makes OTP mandatory: the session
# may use only the OTP application (netbank.otp.tokens.confinement) until 利用開始 in it.
OTP_SETUP_ONLY = "otp_setup_only"
# An operator's keys (django.contrib.auth) never share a session with a customer's.
OPERATOR_KEYS = ("_auth_user_id", "_auth_user_backend", "_auth_user_hash")
