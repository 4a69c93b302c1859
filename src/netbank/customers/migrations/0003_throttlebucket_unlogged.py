"""Rate-limit buckets live in an UNLOGGED table on PostgreSQL.

A bucket is a count of requests in the current minute. Writing it to the WAL made every
counted request pay a WAL flush of its own (its UPDATE commits on its own, so the
channel's shared row is never held for a whole transaction). Unlogged, the count commits
without a flush; after a crash or a fail-over PostgreSQL empties the table and the
current minute starts again from zero. Lockout counters (FailureCounter) stay logged:
they are security state, not rate limits.
"""

from django.db import migrations


def unlogged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE customers_throttlebucket SET UNLOGGED", params=None)


def logged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE customers_throttlebucket SET LOGGED", params=None)


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_customer_challenge_position")]

    operations = [migrations.RunPython(unlogged, logged, elidable=False)]
