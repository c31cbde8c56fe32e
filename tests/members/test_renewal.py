"""The yearly renewal: set-based, idempotent, once per membership per period."""

import datetime
import threading

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from core.emails import BulkEmails, Recipient
from core.models import OutboxMessage
from members.models import (
    EndReason,
    Membership,
    MembershipKind,
    MembershipRenewal,
    MembershipStatus,
)
from members.services import renewal as services
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


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the after-commit hooks (the outbox's deliveries) of what the block commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


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
    assert "10 March 2026" in outbox[0].body or "10 March 2026" in outbox[0].body


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
    write = BulkEmails.write
    calls = []

    def failing_on_the_second_batch(emails):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("worker died")
        write(emails)

    monkeypatch.setattr(BulkEmails, "write", failing_on_the_second_batch)
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

    monkeypatch.setattr(BulkEmails, "write", write)
    assert services.renew_due_memberships(on=ANNIVERSARY, batch_size=2).renewed == 2

    assert all(period(m)[0] == ANNIVERSARY for m in memberships)
    assert MembershipRenewal.objects.count() == 4
    assert renewal_emails().count() == 4


def test_the_command_dry_run_changes_nothing_and_prints_the_summary(outbox, capsys):
    membership = member()
    member(started_on=ANNIVERSARY)  # not due

    call_command("renew_memberships", "--date", "2026-03-10", "--dry-run")

    out = capsys.readouterr().out
    assert "Dry run, nothing changed: renewed 1, ended 0, skipped 0" in out
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

    assert tasks.renew_memberships() == {"renewed": 1, "ended": 0, "skipped": 0, "failed": 0}
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


# --- Ending instead of renewing: flagged as no longer qualifying, or resigning.


def flagged(membership: Membership, reason: str = "The city merged into a metropolis.") -> None:
    membership.not_qualifying_since = datetime.date(2026, 1, 5)
    membership.not_qualifying_reason = reason
    membership.save(update_fields=["not_qualifying_since", "not_qualifying_reason"])


def resigning(membership: Membership, note: str = "Our programme closes this year.") -> None:
    membership.resigns_at_period_end = True
    membership.resignation_note = note
    membership.save(update_fields=["resigns_at_period_end", "resignation_note"])


def ended_emails():
    return OutboxMessage.objects.filter(purpose__startswith="members.ended:")


def test_a_membership_flagged_as_no_longer_qualifying_ends_on_its_renewal_date_and_is_told(
    outbox, committed
):
    membership = member()
    representative = membership.organisation.representatives.get()
    flagged(membership)

    with committed():
        summary = services.renew_due_memberships(on=ANNIVERSARY + datetime.timedelta(days=2))

    assert summary == services.RenewalSummary(renewed=0, ended=1, skipped=0)
    membership.refresh_from_db()
    assert (membership.status, membership.ended_on, membership.end_reason) == (
        MembershipStatus.ENDED,
        ANNIVERSARY,  # its renewal date, not the day the job ran
        EndReason.NO_LONGER_QUALIFIES,
    )
    assert membership.end_note == "The city merged into a metropolis."
    assert period(membership) == (JOINED, datetime.date(2026, 3, 9))  # not renewed
    change = membership.status_changes.order_by("pk").last()
    assert (change.to_status, change.actor) == (MembershipStatus.ENDED, None)
    assert not MembershipRenewal.objects.exists()
    assert not renewal_emails().exists()
    assert [m.purpose for m in ended_emails()] == [f"members.ended:{membership.pk}"]
    assert len(outbox) == 1
    assert outbox[0].to == [representative.user.email]
    assert "your membership of the Centre has ended" in outbox[0].subject
    assert membership.organisation.name in outbox[0].subject
    assert "No longer meets the qualifications" in outbox[0].body
    assert "The city merged into a metropolis." in outbox[0].body
    assert "10 March 2026" in outbox[0].body or "10 March 2026" in outbox[0].body


def test_a_membership_resigning_at_the_end_of_its_period_ends_on_its_renewal_date(
    outbox, committed
):
    membership = member()
    resigning(membership)

    with committed():
        summary = services.renew_due_memberships(on=ANNIVERSARY)

    assert summary == services.RenewalSummary(renewed=0, ended=1, skipped=0)
    membership.refresh_from_db()
    assert (membership.status, membership.ended_on, membership.end_reason) == (
        MembershipStatus.ENDED,
        ANNIVERSARY,
        EndReason.RESIGNED,
    )
    assert membership.end_note == "Our programme closes this year."
    assert membership.resigns_at_period_end is False
    assert not MembershipRenewal.objects.exists()
    assert len(outbox) == 1
    assert "Resigned" in outbox[0].body
    assert "Our programme closes this year." in outbox[0].body


def test_a_membership_both_flagged_and_resigning_ends_for_the_staff_reason(outbox, committed):
    membership = member()
    flagged(membership, "Dissolved by decree.")
    resigning(membership)

    with committed():
        services.renew_due_memberships(on=ANNIVERSARY)

    membership.refresh_from_db()
    assert (membership.end_reason, membership.end_note) == (
        EndReason.NO_LONGER_QUALIFIES,
        "Dissolved by decree.",
    )
    assert len(outbox) == 1


def test_a_flagged_membership_is_not_ended_before_its_renewal_date(outbox, committed):
    membership = member()
    flagged(membership)

    summary = services.renew_due_memberships(on=ANNIVERSARY - datetime.timedelta(days=1))

    assert summary == services.RenewalSummary(renewed=0, ended=0, skipped=0)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert outbox == []


def test_ending_and_renewing_in_one_run_are_counted_apart_and_a_rerun_does_nothing(
    outbox, committed
):
    renewing = [member() for _ in range(3)]
    ending = [member() for _ in range(2)]
    flagged(ending[0])
    resigning(ending[1])

    with committed():
        first = services.renew_due_memberships(on=ANNIVERSARY, batch_size=2)
        second = services.renew_due_memberships(on=ANNIVERSARY, batch_size=2)

    assert first == services.RenewalSummary(renewed=3, ended=2, skipped=0)
    assert second == services.RenewalSummary(renewed=0, ended=0, skipped=0)
    assert all(period(m)[0] == ANNIVERSARY for m in renewing)
    assert {Membership.objects.get(pk=m.pk).status for m in ending} == {MembershipStatus.ENDED}
    assert renewal_emails().count() == 3
    assert ended_emails().count() == 2
    assert len(outbox) == 5


def test_an_honorary_membership_past_its_period_is_neither_renewed_nor_ended(outbox, committed):
    honorary = member(kind=MembershipKind.HONORARY)
    flagged(honorary)

    summary = services.renew_due_memberships(on=ANNIVERSARY + datetime.timedelta(days=400))

    assert summary == services.RenewalSummary(renewed=0, ended=0, skipped=0)
    honorary.refresh_from_db()
    assert honorary.status == MembershipStatus.ACTIVE
    assert period(honorary) == (JOINED, datetime.date(2026, 3, 9))
    assert outbox == []


def test_the_dry_run_counts_renewals_and_endings_and_changes_nothing(outbox, capsys):
    member()
    member(started_on=datetime.date(2024, 3, 10))  # two periods behind
    flagged(member())

    summary = services.renew_due_memberships(on=ANNIVERSARY, dry_run=True)
    call_command("renew_memberships", "--date", "2026-03-10", "--dry-run")

    assert summary == services.RenewalSummary(renewed=3, ended=1, skipped=0)
    assert "Dry run, nothing changed: renewed 3, ended 1, skipped 0" in capsys.readouterr().out
    assert not MembershipRenewal.objects.exists()
    assert Membership.objects.filter(status=MembershipStatus.ENDED).count() == 0
    assert not OutboxMessage.objects.exists()
    # The real run does what the dry run said.
    assert services.renew_due_memberships(on=ANNIVERSARY) == summary


def test_the_renewal_confirmation_links_the_membership_page(outbox, committed):
    member()

    with committed():
        services.renew_due_memberships(on=ANNIVERSARY)

    assert len(outbox) == 1
    assert django_settings.SITE_URL.rstrip("/") + reverse("members:membership") in outbox[0].body


@pytest.mark.django_db(transaction=True)
def test_a_membership_another_run_holds_is_skipped_and_counted_then_renewed_next_time(
    postgres, outbox
):
    held, free = member(), member()
    locked, release = threading.Event(), threading.Event()

    def another_run_holding_it() -> None:
        try:
            with transaction.atomic():
                Membership.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=another_run_holding_it)
    thread.start()
    try:
        assert locked.wait(10)
        summary = services.renew_due_memberships(on=ANNIVERSARY)
    finally:
        release.set()
        thread.join(10)

    assert summary == services.RenewalSummary(renewed=1, ended=0, skipped=1)
    assert period(free)[0] == ANNIVERSARY
    assert period(held)[0] == JOINED
    assert services.renew_due_memberships(on=ANNIVERSARY) == services.RenewalSummary(1, 0, 0)
    assert period(held)[0] == ANNIVERSARY
    assert renewal_emails().count() == 2


def test_the_batch_writes_the_same_email_as_send_to_user_in_the_recipient_s_language(outbox):
    from core.emails import send_to_user

    organisation = factories.OrganisationFactory(name="Ville & Cie <Est>")
    person = factories.UserFactory(first_name="Zoë", last_name="O'Brien", language="fr")
    representative = Recipient(
        email=person.email, name=person.get_full_name(), language=person.language
    )
    dates = {
        "period_start": ANNIVERSARY,
        "period_end": datetime.date(2027, 3, 9),
        "url": "https://portal.example.org/members/membership/",
    }
    send_to_user(
        template="members/email/renewed",
        user=person,
        context={"organisation": organisation, **dates},
        purpose="one",
    )
    emails = BulkEmails("members/email/renewed")
    emails.add(
        to=representative,
        purpose="batch",
        shared=dates,
        personal={"organisation.name": organisation.name},
    )
    emails.write()

    one, batch = (OutboxMessage.objects.get(purpose=p) for p in ("one", "batch"))
    fields = ("to", "language", "subject", "body", "html_body", "from_email", "sensitive")
    assert [getattr(batch, f) for f in fields] == [getattr(one, f) for f in fields]
    assert (batch.status, batch.reply_to, batch.attachments) == ("pending", [], [])
    assert batch.headers["Message-ID"] != one.headers["Message-ID"]
    assert "Ville & Cie <Est>" in batch.body and "Zoë O'Brien" in batch.body
    assert batch.language == "fr"


def test_a_purpose_already_queued_for_a_recipient_is_not_queued_again_by_the_batch(outbox):
    person = factories.UserFactory()
    to = Recipient(person.email.upper(), "A B", "en")
    for _ in range(2):
        emails = BulkEmails("members/email/renewed")
        emails.add(
            to=to,
            purpose="members.renewed:1:2026-03-10",
            shared={"period_start": ANNIVERSARY, "period_end": ANNIVERSARY, "url": ""},
            personal={"organisation.name": "Org"},
        )
        emails.write()

    assert OutboxMessage.objects.filter(purpose="members.renewed:1:2026-03-10").count() == 1


def test_a_template_that_transforms_a_personal_value_is_refused(settings, tmp_path):
    (tmp_path / "members" / "email").mkdir(parents=True)
    (tmp_path / "members" / "email" / "shout_subject.txt").write_text("Hi")
    (tmp_path / "members" / "email" / "shout_body.txt").write_text("{{ organisation.name|upper }}")
    templates = [dict(engine) for engine in settings.TEMPLATES]
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates
    emails = BulkEmails("members/email/shout")

    with pytest.raises(ValueError, match="changed by the template"):
        emails.add(
            to=Recipient("a@example.org", "A", "en"),
            purpose="x",
            shared={},
            personal={"organisation.name": "Org"},
        )


def test_a_membership_that_cannot_end_is_undone_reported_and_does_not_stop_the_others(
    outbox, monkeypatch
):
    staff = factories.StaffFactory()
    broken, resigning, renewing = member(), member(), member()
    for ending in (broken, resigning):
        Membership.objects.filter(pk=ending.pk).update(resigns_at_period_end=True)
    real_end = services.end_membership

    def end_membership(*, membership, **kwargs):
        if membership.pk == broken.pk:
            raise RuntimeError("the mail server's template cache is corrupt")
        return real_end(membership=membership, **kwargs)

    monkeypatch.setattr(services, "end_membership", end_membership)

    summary = services.renew_due_memberships(on=ANNIVERSARY, batch_size=2)

    assert (summary.renewed, summary.ended, summary.failed, summary.skipped) == (1, 1, 1, 0)
    broken.refresh_from_db()
    resigning.refresh_from_db()
    assert broken.status == MembershipStatus.ACTIVE and broken.resigns_at_period_end
    assert resigning.status == MembershipStatus.ENDED
    assert period(renewing)[0] == ANNIVERSARY
    (report,) = OutboxMessage.objects.filter(to=staff.email)
    assert broken.organisation.name in report.subject
    assert "template cache is corrupt" in report.body

    monkeypatch.setattr(services, "end_membership", real_end)
    assert services.renew_due_memberships(on=ANNIVERSARY).ended == 1
    broken.refresh_from_db()
    assert broken.status == MembershipStatus.ENDED
