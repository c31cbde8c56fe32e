"""The migrations that took the Board's knowledge of applications and members away keep the
data that was there: each vote's subject, and a history for representatives."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("board", "0003_quorum_validators"),
    ("members", "0002_roles"),
    ("applications", "0002_roles_and_areas"),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


# Real transactions (a migration is one), and the groups and content types the data migrations
# made are put back for the tests that run after these.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def old_schema():
    apps = migrate(BEFORE)
    yield apps
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate(latest)
    ContentType.objects.clear_cache()


def test_votes_keep_their_subject_and_a_second_open_vote_is_cancelled(old_schema):
    apps = old_schema
    User = apps.get_model("accounts", "User")
    Organisation = apps.get_model("members", "Organisation")
    Application = apps.get_model("applications", "Application")
    Ballot = apps.get_model("board", "Ballot")
    staff = User.objects.create(email="staff@example.org")
    organisation = Organisation.objects.create(
        name="Forum urbain", category="city", country="FR", city="Lyon"
    )
    application = Application.objects.create(
        applicant=staff,
        status="with_board",
        reference="APP-2026-0001",
        submitted_at=timezone.now(),
        org_name="Safer Streets",
    )
    now = timezone.now()
    common = {
        "opened_by": staff,
        "deadline": now + datetime.timedelta(days=7),
        "quorum_percent": 50,
        "majority": "for_against",
        "tie": "president",
    }
    on_application = Ballot.objects.create(
        kind="application", application=application, title="old title", **common
    )
    first = Ballot.objects.create(
        kind="honorary", organisation=organisation, title="first", opened_at=now, **common
    )
    second = Ballot.objects.create(
        kind="honorary",
        organisation=organisation,
        title="second",
        opened_at=now + datetime.timedelta(minutes=5),
        **common,
    )

    apps = migrate([("board", "0006_subject_constraints")])

    Ballot = apps.get_model("board", "Ballot")
    migrated = Ballot.objects.get(pk=on_application.pk)
    assert (migrated.subject_type.model, migrated.subject_id) == ("application", application.pk)
    assert migrated.subject_label == "APP-2026-0001 – Safer Streets"
    assert Ballot.objects.get(pk=first.pk).status == "open"
    cancelled = Ballot.objects.get(pk=second.pk)
    assert cancelled.status == "cancelled"
    assert cancelled.subject_label == "Forum urbain"


def test_representatives_get_their_history_from_their_dates(old_schema):
    apps = old_schema
    User = apps.get_model("accounts", "User")
    Organisation = apps.get_model("members", "Organisation")
    Representative = apps.get_model("members", "Representative")
    organisation = Organisation.objects.create(
        name="Forum urbain", category="city", country="FR", city="Lyon"
    )
    before = Representative.objects.create(
        organisation=organisation,
        user=User.objects.create(email="before@example.org"),
        title="Mayor",
        qualification="elected",
        started_on=datetime.date(2020, 3, 1),
        ended_on=datetime.date(2024, 6, 30),
    )
    now = Representative.objects.create(
        organisation=organisation,
        user=User.objects.create(email="now@example.org"),
        title="Deputy Mayor",
        qualification="elected",
        started_on=datetime.date(2024, 7, 1),
    )

    apps = migrate([("members", "0003_history_base")])

    Representative = apps.get_model("members", "Representative")
    ended = Representative.objects.get(pk=before.pk)
    assert ended.status == "ended"
    assert [
        (c.from_status, c.to_status, timezone.localdate(c.at))
        for c in ended.status_changes.order_by("at")
    ] == [
        ("", "current", datetime.date(2020, 3, 1)),
        ("current", "ended", datetime.date(2024, 6, 30)),
    ]
    current = Representative.objects.get(pk=now.pk)
    assert current.status == "current"
    assert [(c.to_status, c.note) for c in current.status_changes.all()] == [
        ("current", "Deputy Mayor")
    ]


# --- 0008: the deliberations stay with the Board; the rule is the superuser's ------------------

BEFORE_0008 = [("board", "0007_reasons_for_the_reader_and_rule_history")]
AFTER_0008 = [("board", "0008_deliberations_stay_with_the_board")]
GENERATED_EN = (
    "The Board of Directors voted: 1 for, 4 against, 0 abstaining, 0 recused, 2 not voted.\n"
    "– Their director is a friend of mine."
)
GENERATED_FR = "Le conseil d'administration a voté (3 pour, 1 contre).\n– Trop récent."


@pytest.fixture
def before_0008(transactional_db):
    apps = migrate(BEFORE_0008)
    yield apps
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate(latest)


def test_0008_takes_the_deliberations_off_what_the_applicant_reads(before_0008):
    apps = before_0008
    User = apps.get_model("accounts", "User")
    Application = apps.get_model("applications", "Application")
    Ballot = apps.get_model("board", "Ballot")
    ContentType = apps.get_model("contenttypes", "ContentType")
    on_application, _ = ContentType.objects.get_or_create(
        app_label="applications", model="application"
    )
    staff = User.objects.create(email="staff@example.org")
    president = User.objects.create(email="president@example.org")
    now = timezone.now()

    def application(number: int, reason: str):
        return Application.objects.create(
            applicant=staff,
            status="rejected",
            reference=f"APP-2026-000{number}",
            submitted_at=now,
            org_name=f"Applicant {number}",
            decision_reason=reason,
        )

    def ballot(subject, **fields):
        return Ballot.objects.create(
            kind="application",
            subject_type=on_application,
            subject_id=subject.pk,
            subject_label=subject.reference,
            opened_by=staff,
            opened_at=now - datetime.timedelta(days=3),
            deadline=now - datetime.timedelta(days=1),
            quorum_percent=50,
            majority="for_against",
            tie="president",
            **fields,
        )

    decided = {"status": "decided", "outcome": "rejected", "decided_at": now}
    by_votes = application(1, GENERATED_EN)
    by_votes_ballot = ballot(by_votes, decision_reason=GENERATED_EN, **decided)
    in_french = application(2, GENERATED_FR)
    in_french_ballot = ballot(
        in_french, decision_reason=GENERATED_FR, closed_by=president, **decided
    )
    written = application(3, "Please apply again with the city's letter.")
    written_ballot = ballot(
        written,
        decision_reason="Please apply again with the city's letter.",
        closed_by=president,
        **decided,
    )
    cancelled = ballot(
        application(4, ""), status="cancelled", decision_reason="The applicant withdrew."
    )

    apps = migrate(AFTER_0008)

    Application = apps.get_model("applications", "Application")
    Ballot = apps.get_model("board", "Ballot")
    for subject, vote in ((by_votes, by_votes_ballot), (in_french, in_french_ballot)):
        assert Application.objects.get(pk=subject.pk).decision_reason == ""
        migrated = Ballot.objects.get(pk=vote.pk)
        assert (migrated.decision_reason, migrated.reason_by_id) == ("", None)
    kept = Ballot.objects.get(pk=written_ballot.pk)
    assert kept.decision_reason == "Please apply again with the city's letter."
    assert (kept.reason_by_id, kept.reason_at) == (president.pk, kept.decided_at)
    assert Application.objects.get(pk=written.pk).decision_reason == kept.decision_reason
    assert Ballot.objects.get(pk=cancelled.pk).decision_reason == "The applicant withdrew."


def test_0008_gives_an_unreadable_deadline_the_longest_a_vote_may_last(before_0008):
    apps = before_0008
    User = apps.get_model("accounts", "User")
    Organisation = apps.get_model("members", "Organisation")
    Ballot = apps.get_model("board", "Ballot")
    ContentType = apps.get_model("contenttypes", "ContentType")
    on_organisation, _ = ContentType.objects.get_or_create(
        app_label="members", model="organisation"
    )
    staff = User.objects.create(email="staff@example.org")
    organisation = Organisation.objects.create(
        name="Forum", category="city", country="FR", city="Lyon"
    )
    opened = timezone.now() - datetime.timedelta(days=1)
    far = Ballot.objects.create(
        kind="honorary",
        subject_type=on_organisation,
        subject_id=organisation.pk,
        subject_label="Forum",
        opened_by=staff,
        opened_at=opened,
        deadline=opened + datetime.timedelta(days=7),
        quorum_percent=50,
        majority="for_against",
        tie="president",
    )
    with connection.cursor() as cursor:  # what 9999-12-31T23:59 in Montréal was stored as
        cursor.execute(
            "UPDATE board_ballot SET deadline = '10000-01-01 04:59:00+00' WHERE id = %s",
            [far.pk],
        )

    apps = migrate(AFTER_0008)

    migrated = apps.get_model("board", "Ballot").objects.get(pk=far.pk)
    assert migrated.deadline == opened + datetime.timedelta(days=90)


def test_0008_leaves_the_rule_to_the_superuser_and_starts_its_history(before_0008):
    apps = before_0008
    # As it was before 0008: the Staff group could change the rule, and it had no history.
    apps.get_model("board", "VotingRuleChange").objects.all().delete()
    apps.get_model("auth", "Group").objects.get(name="Staff").permissions.add(
        apps.get_model("auth", "Permission").objects.get(
            content_type__app_label="board", codename="change_votingrule"
        )
    )

    apps = migrate(AFTER_0008)

    Group = apps.get_model("auth", "Group")
    staff = set(Group.objects.get(name="Staff").permissions.values_list("codename", flat=True))
    board = set(Group.objects.get(name="Board").permissions.values_list("codename", flat=True))
    assert "change_votingrule" not in staff | board
    assert {"view_votingrule", "view_votingrulechange"} <= staff & board
    rule = apps.get_model("board", "VotingRule").objects.get()
    (start,) = apps.get_model("board", "VotingRuleChange").objects.filter(rule=rule)
    assert start.old_quorum_percent is None
    assert (start.quorum_percent, start.majority, start.tie) == (
        rule.quorum_percent,
        rule.majority,
        rule.tie,
    )
