"""Activation: how the token app gets its seed — the bank's signing key, the install
configuration and app download page, and the two-round activation protocol and its API."""
