"""The staff run the events: they create and publish them, set their fees and visits, and
handle registrations (payments, the waitlist, the door). The Board sees them."""

from django.db import migrations

from accounts.roles import grant

GRANTS = {
    "Staff": {
        "events": [
            "add_event",
            "change_event",
            "view_event",
            "add_feetier",
            "change_feetier",
            "delete_feetier",
            "view_feetier",
            "change_registration",
            "view_registration",
            "view_registrationstatuschange",
            "view_eventstatuschange",
        ],
        "members": ["view_contact"],
    },
    "Board": {"events": ["view_event", "view_registration"]},
}


def create_roles(apps, schema_editor):
    grant(apps, schema_editor, GRANTS)


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial"), ("members", "0008_contacts")]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
