"""The migrations that took the Board's knowledge of applications and members away keep the
data that was there: each vote's subject, and a history for representatives."""

import datetime

import pytest
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


@pytest.fixture
def old_schema(transactional_db):
    apps = migrate(BEFORE)
    yield apps
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate(latest)


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
