"""The two console roles as auth groups: helpdesk_operator and helpdesk_supervisor."""

from django.db import migrations

GROUPS = ("helpdesk_operator", "helpdesk_supervisor")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("helpdesk", "0001_operators_identity_checks_lift_requests"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
