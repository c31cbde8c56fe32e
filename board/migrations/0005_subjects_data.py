"""Each vote's subject, from the foreign keys it had; a second open vote on one question is
cancelled, as the constraint of 0006 requires (see 0004)."""

from django.db import migrations


def subjects_from_foreign_keys(apps, schema_editor):
    Ballot = apps.get_model("board", "Ballot")
    ContentType = apps.get_model("contenttypes", "ContentType")
    application_type, _ = ContentType.objects.get_or_create(
        app_label="applications", model="application"
    )
    organisation_type, _ = ContentType.objects.get_or_create(
        app_label="members", model="organisation"
    )
    for ballot in Ballot.objects.all():
        if ballot.application_id:
            ballot.subject_type = application_type
            ballot.subject_id = ballot.application_id
            application = ballot.application
            ballot.subject_label = f"{application.reference} – {application.org_name}"[:255]
        else:
            ballot.subject_type = organisation_type
            ballot.subject_id = ballot.organisation_id
            ballot.subject_label = ballot.organisation.name[:255]
        ballot.save(update_fields=["subject_type", "subject_id", "subject_label"])


def cancel_second_open_votes(apps, schema_editor):
    """Before, two open votes on one organisation could exist (two honorary proposals); only
    the first is kept open, as the new constraint requires."""
    Ballot = apps.get_model("board", "Ballot")
    seen = set()
    for ballot in Ballot.objects.filter(status="open").order_by("opened_at", "pk"):
        key = (ballot.subject_type_id, ballot.subject_id)
        if key in seen:
            ballot.status = "cancelled"
            ballot.decision_reason = "Another vote on the same question was already open."
            ballot.save(update_fields=["status", "decision_reason"])
        seen.add(key)


class Migration(migrations.Migration):
    dependencies = [
        ("board", "0004_motions_registered_by_apps"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("applications", "0002_roles_and_areas"),
        ("members", "0003_history_base"),
    ]

    operations = [
        migrations.RunPython(subjects_from_foreign_keys, migrations.RunPython.noop),
        migrations.RunPython(cancel_second_open_votes, migrations.RunPython.noop),
    ]
