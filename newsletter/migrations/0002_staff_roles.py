"""The staff run the newsletter: they compose, preview, schedule, send and pause editions, define
the topics and look after the subscribers (mark bouncing addresses, export the list)."""

from django.db import migrations

from accounts.roles import grant

GRANTS = {
    "Staff": {
        "newsletter": [
            "add_edition",
            "change_edition",
            "delete_edition",
            "view_edition",
            "send_edition",
            "view_editionstatuschange",
            "add_topic",
            "change_topic",
            "delete_topic",
            "view_topic",
            "change_subscriber",
            "view_subscriber",
            "view_subscriberstatuschange",
            "view_delivery",
        ],
    },
}


def create_roles(apps, schema_editor):
    grant(apps, schema_editor, GRANTS)


class Migration(migrations.Migration):
    dependencies = [("newsletter", "0001_initial")]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
