"""Hash chains, step 3 of 3: every record now has its link; make the columns required."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chain_existing_records")]

    operations = [
        migrations.AlterField(
            model_name="auditrecord",
            name="seq",
            field=models.PositiveBigIntegerField(),
        ),
        migrations.AddConstraint(
            model_name="auditrecord",
            constraint=models.UniqueConstraint(
                fields=("chain", "seq"), name="audit_record_chain_seq_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="auditrecord",
            constraint=models.CheckConstraint(
                condition=models.Q(("seq__gte", 1)), name="audit_record_seq_from_1"
            ),
        ),
    ]
