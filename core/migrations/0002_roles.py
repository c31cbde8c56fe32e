from django.db import migrations

from core.roles import grant

# "Staff" is accounts' STAFF_GROUP, named here as a literal: core imports no app of ours.
GRANTS = {
    "Staff": {"core": ["view_outboxmessage", "resend_outboxmessage"]},
}


def create_roles(apps, schema_editor):
    grant(apps, schema_editor, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
