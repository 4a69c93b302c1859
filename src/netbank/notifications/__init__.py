"""Mail outbox and its SMTP delivery worker. Imports no domain app."""
