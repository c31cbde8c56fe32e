import datetime

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def statuses_from_end_dates(apps, schema_editor):
    Representative = apps.get_model("members", "Representative")
    Representative.objects.filter(ended_on__isnull=False).update(status="ended")


def first_history_rows(apps, schema_editor):
    """Representatives designated before the history existed get it from their dates: the
    designation on ``started_on``, and the end on ``ended_on`` for those already replaced."""
    Representative = apps.get_model("members", "Representative")
    Change = apps.get_model("members", "RepresentativeStatusChange")

    def at(day):
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))

    rows = []
    for rep in Representative.objects.all():
        rows.append(
            Change(
                representative=rep,
                from_status="",
                to_status="current",
                note=rep.title,
                at=at(rep.started_on),
            )
        )
        if rep.ended_on:
            rows.append(
                Change(
                    representative=rep,
                    from_status="current",
                    to_status="ended",
                    at=at(rep.ended_on),
                )
            )
    Change.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0002_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="membershipstatuschange",
            options={
                "ordering": ["at", "pk"],
                "verbose_name": "status change",
                "verbose_name_plural": "status changes",
            },
        ),
        migrations.RenameField("membershipstatuschange", "changed_by", "actor"),
        migrations.RenameField("membershipstatuschange", "changed_at", "at"),
        migrations.RenameField("membershipstatuschange", "reason", "note"),
        migrations.AlterField(
            model_name="membershipstatuschange",
            name="at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="when"),
        ),
        migrations.AlterField(
            model_name="membershipstatuschange",
            name="note",
            field=models.TextField(blank=True, verbose_name="note"),
        ),
        migrations.AddField(
            model_name="representative",
            name="status",
            field=models.CharField(
                choices=[("current", "Designated"), ("ended", "Replaced")],
                default="current",
                max_length=16,
                verbose_name="status",
            ),
        ),
        migrations.RunPython(statuses_from_end_dates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="representative",
            constraint=models.CheckConstraint(
                condition=models.Q(("ended_on__isnull", True), ("status", "current"))
                | models.Q(("ended_on__isnull", False), ("status", "ended")),
                name="representative_end_matches_status",
            ),
        ),
        migrations.CreateModel(
            name="RepresentativeStatusChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="when"),
                ),
                ("note", models.TextField(blank=True, verbose_name="note")),
                (
                    "from_status",
                    models.CharField(
                        blank=True,
                        choices=[("current", "Designated"), ("ended", "Replaced")],
                        max_length=16,
                        verbose_name="from",
                    ),
                ),
                (
                    "to_status",
                    models.CharField(
                        choices=[("current", "Designated"), ("ended", "Replaced")],
                        max_length=16,
                        verbose_name="to",
                    ),
                ),
                (
                    "actor",
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
                    "representative",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="status_changes",
                        to="members.representative",
                        verbose_name="representative",
                    ),
                ),
            ],
            options={
                "verbose_name": "change of representative",
                "verbose_name_plural": "changes of representative",
                "ordering": ["at", "pk"],
                "abstract": False,
            },
        ),
        migrations.RunPython(first_history_rows, migrations.RunPython.noop),
    ]
