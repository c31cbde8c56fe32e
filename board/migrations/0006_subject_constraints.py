"""The old foreign keys go, the subject becomes required, and one open vote per subject is a
constraint (see 0004)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("board", "0005_subjects_data")]

    operations = [
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
