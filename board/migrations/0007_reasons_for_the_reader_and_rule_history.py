"""A reason written for the person concerned, with who wrote it and when; the voting rule's
history."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("board", "0006_subject_constraints"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="ballot",
            name="reason_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="reason written"),
        ),
        migrations.AddField(
            model_name="ballot",
            name="reason_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="reason written by",
            ),
        ),
        migrations.AlterField(
            model_name="ballot",
            name="decision_reason",
            field=models.TextField(
                blank=True,
                help_text="Written for the person concerned. The directors' votes and comments are not in it.",
                verbose_name="reason",
            ),
        ),
        migrations.CreateModel(
            name="VotingRuleChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "changed_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="when"),
                ),
                (
                    "old_quorum_percent",
                    models.PositiveSmallIntegerField(
                        blank=True, null=True, verbose_name="quorum before (%)"
                    ),
                ),
                (
                    "old_majority",
                    models.CharField(
                        blank=True,
                        choices=[
                            (
                                "for_against",
                                "More votes for than against; abstentions do not count",
                            ),
                            ("all_cast", "More than half of all votes cast, abstentions included"),
                        ],
                        max_length=16,
                        verbose_name="majority before",
                    ),
                ),
                (
                    "old_tie",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("rejected", "A tie means the proposal is rejected"),
                            ("president", "The President's vote decides a tie"),
                        ],
                        max_length=16,
                        verbose_name="tie before",
                    ),
                ),
                (
                    "quorum_percent",
                    models.PositiveSmallIntegerField(verbose_name="quorum after (%)"),
                ),
                (
                    "majority",
                    models.CharField(
                        choices=[
                            (
                                "for_against",
                                "More votes for than against; abstentions do not count",
                            ),
                            ("all_cast", "More than half of all votes cast, abstentions included"),
                        ],
                        max_length=16,
                        verbose_name="majority after",
                    ),
                ),
                (
                    "tie",
                    models.CharField(
                        choices=[
                            ("rejected", "A tie means the proposal is rejected"),
                            ("president", "The President's vote decides a tie"),
                        ],
                        max_length=16,
                        verbose_name="tie after",
                    ),
                ),
                (
                    "changed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "rule",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="changes",
                        to="board.votingrule",
                        verbose_name="rule",
                    ),
                ),
            ],
            options={
                "verbose_name": "change of the voting rule",
                "verbose_name_plural": "history of the voting rule",
                "ordering": ["-changed_at", "-pk"],
            },
        ),
    ]
