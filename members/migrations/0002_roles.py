from django.db import migrations

from accounts.roles import grant

GRANTS = {
    "Staff": {
        "accounts": ["view_user", "change_user"],
        "members": [
            "view_organisation",
            "add_organisation",
            "change_organisation",
            "view_representative",
            "change_representative",
            "view_membership",
            "view_membershipstatuschange",
        ],
    },
    "Board": {
        "members": [
            "view_organisation",
            "view_representative",
            "view_membership",
            "view_membershipstatuschange",
        ],
    },
}


def create_roles(apps, schema_editor):
    grant(apps, schema_editor, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0001_initial"),
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
