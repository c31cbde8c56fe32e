"""The Board no longer knows applications or organisations: each vote names its subject by
content type and id, and the app that registered the motion says what it is.

Three migrations, each in a transaction of its own, because PostgreSQL does not alter a table
whose rows the same transaction has just updated: the new fields (0004), their data (0005), then
the old foreign keys go and the constraints come (0006)."""

import django.db.models.deletion
from django.db import migrations, models


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
    ]
