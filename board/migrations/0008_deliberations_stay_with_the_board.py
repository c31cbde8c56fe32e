"""Data for 0007, and three mends of what was there.

- The voting rule comes from the statutes: only a superuser changes it (the Staff group loses
  the permission); the Board and the staff read its history, which starts with the rule as it
  stands.
- The directors' deliberations stay with the Board and the staff: a reason the portal wrote
  from the tally and the comments against is taken off each vote, and off the application it
  was copied to (the applicant's page showed it). A reason the President wrote is kept, as
  written by them.
- A deadline in the year 9999 or later cannot be read back (it breaks every page that shows the
  vote): it becomes the longest a vote may now stay open, 90 days after it opened.
"""

import datetime

from django.db import migrations
from django.db.models import F, Q

from core.roles import grant

# What the portal wrote, in the languages it wrote in, before reasons came only from a person.
GENERATED = ("The Board of Directors voted: ", "Le conseil d'administration a voté (")
MAX_VOTING_TIME = datetime.timedelta(days=90)
UNREADABLE = datetime.datetime(9999, 1, 1, tzinfo=datetime.UTC)


def rule_is_the_superusers(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    grant(
        apps,
        schema_editor,
        {
            "Staff": {"board": ["view_votingrulechange"]},
            "Board": {"board": ["view_votingrulechange"]},
        },
    )
    change = Permission.objects.filter(
        content_type__app_label="board", codename__in=["add_votingrule", "change_votingrule"]
    )
    for group in Group.objects.filter(name__in=["Staff", "Board"]):
        group.permissions.remove(*change)
    VotingRule = apps.get_model("board", "VotingRule")
    VotingRuleChange = apps.get_model("board", "VotingRuleChange")
    for rule in VotingRule.objects.filter(changes__isnull=True):
        VotingRuleChange.objects.create(
            rule=rule,
            changed_at=rule.updated_at,
            changed_by=rule.updated_by,
            quorum_percent=rule.quorum_percent,
            majority=rule.majority,
            tie=rule.tie,
        )


def readable_deadlines(apps, schema_editor):
    Ballot = apps.get_model("board", "Ballot")
    Ballot.objects.filter(deadline__gte=UNREADABLE).update(
        deadline=F("opened_at") + MAX_VOTING_TIME
    )


def deliberations_stay_with_the_board(apps, schema_editor):
    Ballot = apps.get_model("board", "Ballot")
    Application = apps.get_model("applications", "Application")
    decided = Ballot.objects.filter(status="decided").exclude(decision_reason="")
    generated = Q(closed_by__isnull=True)
    for prefix in GENERATED:
        generated |= Q(decision_reason__startswith=prefix)
    rows = decided.filter(generated).values_list(
        "pk", "decision_reason", "subject_type__app_label", "subject_type__model", "subject_id"
    )
    for pk, reason, app_label, model, subject_id in rows:
        if (app_label, model) == ("applications", "application"):
            Application.objects.filter(pk=subject_id, decision_reason=reason).update(
                decision_reason=""
            )
        Ballot.objects.filter(pk=pk).update(decision_reason="")
    decided.exclude(generated).filter(reason_by__isnull=True).update(
        reason_by=F("closed_by"), reason_at=F("decided_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("board", "0007_reasons_for_the_reader_and_rule_history"),
        ("applications", "0002_roles_and_areas"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(rule_is_the_superusers, migrations.RunPython.noop),
        migrations.RunPython(readable_deadlines, migrations.RunPython.noop),
        migrations.RunPython(deliberations_stay_with_the_board, migrations.RunPython.noop),
    ]
