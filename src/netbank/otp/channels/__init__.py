"""Other channels (telephone banking, branch systems) verifying a customer's OTP through
the bank's API with their own keys."""
