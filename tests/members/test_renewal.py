"""The yearly renewal: set-based, idempotent, once per membership per period."""

import datetime

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse

from core.models import OutboxMessage
from members import services
from members.models import (
    EndReason,
    Membership,
    MembershipKind,
    MembershipRenewal,
    MembershipStatus,
)
from tests import factories
from tests.concurrency import race
from tests.factories import with_totp

pytestmark = pytest.mark.django_db

JOINED = datetime.date(2025, 3, 10)  # its period: 10 March 2025 to 9 March 2026
ANNIVERSARY = datetime.date(2026, 3, 10)


def member(started_on=JOINED, **fields) -> Membership:
    membership = factories.MembershipFactory(started_on=started_on, **fields)
    factories.RepresentativeFactory(
        organisation=membership.organisation, started_on=started_on, user__language="en"
    )
    return membership


def renewal_emails():
    return OutboxMessage.objects.filter(purpose__startswith="members.renewed:")


def period(membership: Membership) -> tuple[datetime.date, datetime.date]:
    membership.refresh_from_db()
    return membership.period_start, membership.period_end


def test_a_due_membership_is_renewed_for_one_more_year_with_a_record_and_an_email(
    outbox, django_capture_on_commit_callbacks
):
    membership = member()
    representative = membership.organisation.representatives.get()

    with django_capture_on_commit_callbacks(execute=True):
        summary = services.renew_due_memberships(on=ANNIVERSARY)

    assert summary == services.RenewalSummary(renewed=1, ended=0, skipped=0)
    assert period(membership) == (ANNIVERSARY, datetime.date(2027, 3, 9))
    assert membership.status == MembershipStatus.ACTIVE
    renewal = MembershipRenewal.objects.get()
    assert (renewal.membership, renewal.period_start, renewal.period_end, renewal.by) == (
        membership,
        ANNIVERSARY,
        datetime.date(2027, 3, 9),
        None,
    )
    assert [m.purpose for m in renewal_emails()] == [f"members.renewed:{membership.pk}:2026-03-10"]
    assert len(outbox) == 1
    assert outbox[0].to == [representative.user.email]
    assert "membership is renewed" in outbox[0].subject
    assert "10 March 2026" in outbox[0].body or "March 10, 2026" in outbox[0].body


def test_a_membership_is_not_due_on_the_last_day_of_its_period(outbox):
    membership = member()

    summary = services.renew_due_memberships(on=ANNIVERSARY - datetime.timedelta(days=1))

    assert summary.renewed == 0
    assert period(membership) == (JOINED, datetime.date(2026, 3, 9))
    assert not MembershipRenewal.objects.exists()
    assert not renewal_emails().exists()


def test_honorary_and_ended_memberships_are_never_renewed(outbox):
    honorary = member(kind=MembershipKind.HONORARY)
    ended = member(
        status=MembershipStatus.ENDED,
        ended_on=datetime.date(2025, 6, 1),
        end_reason=EndReason.RESIGNED,
    )

    assert services.renew_due_memberships(on=ANNIVERSARY).renewed == 0

    assert period(honorary) == (JOINED, datetime.date(2026, 3, 9))
    assert period(ended) == (JOINED, datetime.date(2026, 3, 9))
    assert not MembershipRenewal.objects.exists()
    assert not renewal_emails().exists()


def test_running_twice_on_one_day_renews_once(outbox):
    membership = member()

    first = services.renew_due_memberships(on=ANNIVERSARY)
    second = services.renew_due_memberships(on=ANNIVERSARY)

    assert (first.renewed, second.renewed) == (1, 0)
    assert period(membership) == (ANNIVERSARY, datetime.date(2027, 3, 9))
    assert MembershipRenewal.objects.count() == 1
    assert renewal_emails().count() == 1


def test_a_membership_years_behind_is_renewed_period_by_period(outbox):
    membership = member(started_on=datetime.date(2023, 3, 10))

    assert services.renew_due_memberships(on=ANNIVERSARY).renewed == 3

    assert period(membership) == (ANNIVERSARY, datetime.date(2027, 3, 9))
    assert list(
        MembershipRenewal.objects.order_by("period_start").values_list("period_start", flat=True)
    ) == [datetime.date(2024, 3, 10), datetime.date(2025, 3, 10), ANNIVERSARY]
    assert renewal_emails().count() == 3


def test_a_period_starting_on_29_february_renews_as_yearly_period_says(outbox):
    membership = member(started_on=datetime.date(2024, 2, 29))  # ends 28 February 2025

    services.renew_due_memberships(on=datetime.date(2025, 3, 1))

    assert period(membership) == (datetime.date(2025, 3, 1), datetime.date(2026, 2, 28))


def test_a_failure_between_batches_keeps_the_first_and_the_next_run_finishes(outbox, monkeypatch):
    memberships = [member() for _ in range(4)]
    told = services.tell_representatives
    calls = []

    def failing_on_the_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) > 2:
            raise RuntimeError("worker died")
        told(*args, **kwargs)

    monkeypatch.setattr(services, "tell_representatives", failing_on_the_second_batch)
    with pytest.raises(RuntimeError, match="worker died"):
        services.renew_due_memberships(on=ANNIVERSARY, batch_size=2)

    first_batch = sorted(memberships, key=lambda m: m.pk)[:2]
    assert set(MembershipRenewal.objects.values_list("membership", flat=True)) == {
        m.pk for m in first_batch
    }
    assert [period(m)[0] for m in sorted(memberships, key=lambda m: m.pk)] == [
        ANNIVERSARY,
        ANNIVERSARY,
        JOINED,
        JOINED,
    ]
    assert renewal_emails().count() == 2

    monkeypatch.setattr(services, "tell_representatives", told)
    assert services.renew_due_memberships(on=ANNIVERSARY, batch_size=2).renewed == 2

    assert all(period(m)[0] == ANNIVERSARY for m in memberships)
    assert MembershipRenewal.objects.count() == 4
    assert renewal_emails().count() == 4


def test_the_command_dry_run_changes_nothing_and_prints_the_summary(outbox, capsys):
    membership = member()
    member(started_on=ANNIVERSARY)  # not due

    call_command("renew_memberships", "--date", "2026-03-10", "--dry-run")

    assert "renewed 1, ended 0, skipped 0" in capsys.readouterr().out
    assert period(membership) == (JOINED, datetime.date(2026, 3, 9))
    assert not MembershipRenewal.objects.exists()
    assert not renewal_emails().exists()


def test_the_command_renews_and_prints_the_summary(outbox, capsys):
    membership = member()

    call_command("renew_memberships", "--date", "2026-03-10")
    call_command("renew_memberships", "--date", "2026-03-10")

    out = capsys.readouterr().out
    assert "renewed 1, ended 0, skipped 0" in out
    assert "renewed 0, ended 0, skipped 0" in out
    assert period(membership) == (ANNIVERSARY, datetime.date(2027, 3, 9))


def test_the_daily_task_is_on_the_beat_schedule_and_renews_what_is_due_today(outbox, monkeypatch):
    from members import tasks

    entries = [
        e
        for e in django_settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "members.renew_memberships"
    ]
    assert len(entries) == 1
    assert tasks.renew_memberships.name == "members.renew_memberships"
    membership = member()
    monkeypatch.setattr(tasks.timezone, "localdate", lambda: ANNIVERSARY)

    assert tasks.renew_memberships() == {"renewed": 1, "ended": 0, "skipped": 0}
    assert period(membership)[0] == ANNIVERSARY


def test_staff_see_the_renewals_in_the_membership_admin(client, outbox):
    membership = member()
    services.renew_due_memberships(on=ANNIVERSARY)
    client.force_login(with_totp(factories.UserFactory(is_staff=True, is_superuser=True)))

    response = client.get(reverse("admin:members_membership_change", args=[membership.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "History: yearly renewals" in content
    assert 'name="renewals-TOTAL_FORMS" value="1"' in content


# --- Two runs at once, on PostgreSQL: each thread has its own connection and transaction.
# No serialized_rollback: this test is ordered after core's transactional tests, whose flush
# re-creates the content types, and restoring the serialized copy on top of them would clash.


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_renew_each_membership_once_with_one_email(postgres, outbox):
    memberships = [member() for _ in range(12)]

    results = race(
        lambda: services.renew_due_memberships(on=ANNIVERSARY, batch_size=3),
        lambda: services.renew_due_memberships(on=ANNIVERSARY, batch_size=3),
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.renewed for r in results) == 12, results  # type: ignore[union-attr]
    assert all(period(m) == (ANNIVERSARY, datetime.date(2027, 3, 9)) for m in memberships)
    assert MembershipRenewal.objects.count() == 12
    assert sorted(MembershipRenewal.objects.values_list("membership", flat=True)) == sorted(
        m.pk for m in memberships
    )
    assert renewal_emails().count() == 12
    assert len({m.purpose for m in renewal_emails()}) == 12
    assert len(outbox) == 12
