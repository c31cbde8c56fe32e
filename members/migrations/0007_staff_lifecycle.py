"""The staff read the lifecycle's records (notices, changes of representative, events, renewals,
the member's responses to a dismissal); the Board reads the member's responses and history."""

from django.db import migrations

from accounts.roles import grant

GRANTS = {
    "Staff": {
        "members": [
            "view_renewalnotice",
            "view_representativechange",
            "view_membershipevent",
            "view_membershiprenewal",
            "view_dismissalresponse",
        ],
    },
    "Board": {
        "members": ["view_membershipevent", "view_dismissalresponse"],
    },
}


def create_roles(apps, schema_editor):
    grant(apps, schema_editor, GRANTS)


class Migration(migrations.Migration):
    dependencies = [("members", "0006_lifecycle")]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
