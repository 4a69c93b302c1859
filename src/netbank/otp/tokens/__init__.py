"""A customer's tokens: issue, 利用開始, cancel, the authenticator-app variant, login step 2
with OTP, the mails about them, their part of a suspension, and the confinement of a
session to the OTP screens until OTP is in use."""
