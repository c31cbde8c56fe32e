"""The Board no longer knows applications or organisations: each vote names its subject by
content type and id, and the app that registered the motion says what it is."""

import django.db.models.deletion
from django.db import migrations, models


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


class Migration(migrations.Migration):
    dependencies = [
        ("board", "0003_quorum_validators"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("applications", "0002_roles_and_areas"),
        ("members", "0003_history_base"),
    ]

    operations = [
        migrations.RenameField("ballot", "motion", "details"),
        migrations.AlterField(
            model_name="ballot",
            name="kind",
            field=models.CharField(
                help_text="The kind of motion.", max_length=32, verbose_name="kind"
            ),
        ),
        migrations.AddField(
            model_name="ballot",
            name="subject_type",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="contenttypes.contenttype",
                verbose_name="about a",
            ),
        ),
        migrations.AddField(
            model_name="ballot",
            name="subject_id",
            field=models.PositiveBigIntegerField(null=True, verbose_name="about #"),
        ),
        migrations.AddField(
            model_name="ballot",
            name="subject_label",
            field=models.CharField(
                default="",
                help_text="A reference or a name, in no language.",
                max_length=255,
                verbose_name="about",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="ballot",
            name="effect_note",
            field=models.TextField(
                blank=True,
                help_text="Written when the decision is carried out, or when it could not be.",
                verbose_name="what the decision did",
            ),
        ),
        migrations.RunPython(subjects_from_foreign_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="ballot", name="one_open_vote_per_application"),
        migrations.RemoveConstraint(model_name="ballot", name="ballot_has_its_subject"),
        migrations.RemoveField(model_name="ballot", name="application"),
        migrations.RemoveField(model_name="ballot", name="organisation"),
        migrations.RemoveField(model_name="ballot", name="title"),
        migrations.AlterField(
            model_name="ballot",
            name="subject_type",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="contenttypes.contenttype",
                verbose_name="about a",
            ),
        ),
        migrations.AlterField(
            model_name="ballot",
            name="subject_id",
            field=models.PositiveBigIntegerField(verbose_name="about #"),
        ),
        migrations.AddConstraint(
            model_name="ballot",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "open")),
                fields=("subject_type", "subject_id"),
                name="one_open_vote_per_subject",
                violation_error_message="A vote on this is already open.",
            ),
        ),
        migrations.AddIndex(
            model_name="ballot",
            index=models.Index(
                fields=["subject_type", "subject_id"], name="board_ballo_subject_b80755_idx"
            ),
        ),
    ]
