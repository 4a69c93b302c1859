"""Append-only audit trail. Imports no domain app."""
