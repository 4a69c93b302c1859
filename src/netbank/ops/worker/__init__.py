"""``netbank worker``: every periodic job of the bank, on its schedule, exactly once a period.

``schedule`` says which jobs run how often, ``locks`` makes one worker of many run a job
(PostgreSQL advisory locks; on SQLite the worker runs alone), ``runner`` runs them; the command
refuses to start on a misconfiguration (``netbank.ops.checks``, as the servers do).
docs/operations.md ("The worker").
"""
