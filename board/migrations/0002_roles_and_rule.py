from django.db import migrations

from accounts.roles import grant

GRANTS = {
    "Staff": {"board": ["view_ballot", "view_vote", "view_votingrule", "change_votingrule"]},
    "Board": {"board": ["view_ballot", "view_vote", "view_votingrule"]},
}


def forwards(apps, schema_editor):
    grant(apps, schema_editor, GRANTS)
    VotingRule = apps.get_model("board", "VotingRule")
    if not VotingRule.objects.exists():
        VotingRule.objects.create(quorum_percent=50, majority="for_against", tie="president")


class Migration(migrations.Migration):
    dependencies = [
        ("board", "0001_initial"),
        ("members", "0002_roles"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
