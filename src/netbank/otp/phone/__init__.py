"""OTP on a smartphone: the issue applied for and set up on the phone itself (docs/smartphone.md)."""
