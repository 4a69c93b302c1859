"""NetBank OTP: internet banking protected by one-time passwords."""
