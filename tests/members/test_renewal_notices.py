"""Thirty days before the renewal: the representatives' notice, once per membership per period."""

import datetime

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse

from core.models import OutboxMessage
from members.models import (
    Membership,
    MembershipEvent,
    MembershipEventKind,
    MembershipKind,
    RenewalNotice,
)
from members.services import renewal as services
from tests import factories
from tests.concurrency import race

pytestmark = pytest.mark.django_db

JOINED = datetime.date(2025, 3, 10)  # its period ends on 9 March 2026
RENEWS_ON = datetime.date(2026, 3, 10)
THIRTY_DAYS_BEFORE = RENEWS_ON - datetime.timedelta(days=30)  # 8 February 2026


def member(started_on=JOINED, **fields) -> Membership:
    membership = factories.MembershipFactory(started_on=started_on, **fields)
    factories.RepresentativeFactory(
        organisation=membership.organisation,
        started_on=started_on,
        user__language="en",
        user__first_name="Ada",
        user__last_name="Okafor",
    )
    return membership


def notice_emails():
    return OutboxMessage.objects.filter(purpose__startswith="members.renewal-notice:")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the after-commit hooks (the outbox's deliveries) of what the block commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_the_representative_gets_the_notice_thirty_days_before_the_renewal(outbox, committed):
    membership = member()
    representative = membership.organisation.representatives.get()

    with committed():
        sent = services.send_renewal_notices(on=THIRTY_DAYS_BEFORE)

    assert sent == 1
    notice = RenewalNotice.objects.get()
    assert (notice.membership, notice.renews_on, notice.answer) == (membership, RENEWS_ON, "")
    event = MembershipEvent.objects.get()
    assert (event.membership, event.kind, event.by) == (
        membership,
        MembershipEventKind.NOTICE_SENT,
        None,
    )
    assert [m.purpose for m in notice_emails()] == [
        f"members.renewal-notice:{membership.pk}:2026-03-10"
    ]
    assert len(outbox) == 1
    email = outbox[0]
    assert email.to == [representative.user.email]
    # The date in the format of the recipient's language (English: either order of day, month).
    assert email.subject in {
        f"[ICPC] {membership.organisation.name}: your membership renews on {date}"
        for date in ("10 March 2026", "10 March 2026")
    }
    assert "Hello Ada Okafor," in email.body
    body = " ".join(email.body.split())
    assert "automatically on 10 March 2026" in body or "automatically on 10 March 2026" in body
    site = django_settings.SITE_URL.rstrip("/")
    # The signed token carries its time: the link is the notice's page for this notice.
    (link,) = [line for line in email.body.splitlines() if "/renewal/" in line]
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert link == site + reverse("members:renewal_notice", args=[token])
    assert RenewalNotice.from_token(token) == notice
    assert site + reverse("members:membership") in email.body
    assert "confirm in one click" in body and "what has changed" in body


def test_the_link_in_each_notice_opens_that_notice_s_page_and_confirms_it(
    client, outbox, committed, today_is
):
    today_is(THIRTY_DAYS_BEFORE)  # the day the notices go out: the renewal is still ahead
    first, second = member(), member()

    with committed():
        services.send_renewal_notices(on=THIRTY_DAYS_BEFORE)

    assert len(outbox) == 2
    for email in outbox:
        (link,) = [line for line in email.body.splitlines() if "/renewal/" in line]
        path = link.removeprefix(django_settings.SITE_URL.rstrip("/"))
        token = path.rstrip("/").rsplit("/", 1)[1]
        notice = RenewalNotice.from_token(token)
        assert notice is not None
        assert notice.membership.organisation.name in email.subject
        response = client.get(path)  # no sign-in needed: the signed link is the key
        assert response.status_code == 200
        assert notice.membership.organisation.name in response.content.decode()
    assert {n.membership for n in RenewalNotice.objects.all()} == {first, second}

    response = client.post(path, {"answer": "confirmed"})

    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.answer == "confirmed"
    assert client.get(path.replace(token, token + "x")).status_code == 404


def test_no_notice_thirty_one_days_before_nor_on_the_renewal_date(outbox):
    member()

    assert services.send_renewal_notices(on=THIRTY_DAYS_BEFORE - datetime.timedelta(days=1)) == 0
    assert services.send_renewal_notices(on=RENEWS_ON) == 0

    assert not RenewalNotice.objects.exists()
    assert not notice_emails().exists()


def test_a_membership_missed_on_the_thirtieth_day_gets_its_notice_the_day_after(outbox):
    member()

    assert services.send_renewal_notices(on=THIRTY_DAYS_BEFORE + datetime.timedelta(days=1)) == 1
    assert services.send_renewal_notices(on=RENEWS_ON - datetime.timedelta(days=1)) == 0

    assert RenewalNotice.objects.get().renews_on == RENEWS_ON


def test_a_notice_is_never_sent_twice_for_one_renewal_date(outbox, committed):
    member()

    with committed():
        first = services.send_renewal_notices(on=THIRTY_DAYS_BEFORE)
        again = services.send_renewal_notices(on=THIRTY_DAYS_BEFORE)
        next_day = services.send_renewal_notices(on=THIRTY_DAYS_BEFORE + datetime.timedelta(days=1))

    assert (first, again, next_day) == (1, 0, 0)
    assert RenewalNotice.objects.count() == 1
    assert MembershipEvent.objects.count() == 1
    assert notice_emails().count() == 1
    assert len(outbox) == 1


def test_after_the_renewal_the_next_period_gets_its_own_notice(outbox):
    membership = member()
    services.send_renewal_notices(on=THIRTY_DAYS_BEFORE)
    services.renew_due_memberships(on=RENEWS_ON)

    assert services.send_renewal_notices(on=datetime.date(2027, 2, 8)) == 1

    assert list(
        RenewalNotice.objects.filter(membership=membership)
        .order_by("renews_on")
        .values_list("renews_on", flat=True)
    ) == [RENEWS_ON, datetime.date(2027, 3, 10)]
    assert notice_emails().count() == 2


def test_no_notice_for_a_flagged_resigning_honorary_or_ended_membership(outbox):
    flagged = member()
    flagged.not_qualifying_since = datetime.date(2026, 1, 5)
    flagged.not_qualifying_reason = "Dissolved."
    flagged.save()
    resigning = member()
    resigning.resigns_at_period_end = True
    resigning.save()
    member(kind=MembershipKind.HONORARY)
    member(status="ended", ended_on=datetime.date(2025, 9, 1), end_reason="resigned")

    assert services.send_renewal_notices(on=THIRTY_DAYS_BEFORE) == 0

    assert not RenewalNotice.objects.exists()
    assert not MembershipEvent.objects.exists()
    assert not notice_emails().exists()


def test_a_notice_goes_to_the_current_representative_only(outbox, committed):
    membership = member()
    old = membership.organisation.representatives.get()
    old.status, old.ended_on = "ended", datetime.date(2026, 1, 1)
    old.save()
    new = factories.RepresentativeFactory(
        organisation=membership.organisation, started_on=datetime.date(2026, 1, 1)
    )

    with committed():
        services.send_renewal_notices(on=THIRTY_DAYS_BEFORE)

    assert [email.to for email in outbox] == [[new.user.email]]


def test_the_notices_go_batch_by_batch(outbox):
    memberships = [member() for _ in range(5)]
    batches: list[int] = []

    sent = services.send_renewal_notices(
        on=THIRTY_DAYS_BEFORE, batch_size=2, progress=batches.append
    )

    assert (sent, batches) == (5, [2, 2, 1])
    assert set(RenewalNotice.objects.values_list("membership", flat=True)) == {
        m.pk for m in memberships
    }
    assert notice_emails().count() == 5


def test_the_dry_run_counts_the_notices_and_sends_nothing(outbox):
    member()

    assert services.send_renewal_notices(on=THIRTY_DAYS_BEFORE, dry_run=True) == 1

    assert not RenewalNotice.objects.exists()
    assert not notice_emails().exists()


def test_the_command_sends_the_notices_and_renews_for_the_date(outbox, capsys):
    renewing_soon = member()
    due = member(started_on=datetime.date(2025, 2, 8))  # renews on 8 February 2026

    call_command("renew_memberships", "--date", "2026-02-08")

    out = capsys.readouterr().out
    assert "renewal notices sent 1" in out
    assert "renewed 1, ended 0, skipped 0" in out
    assert RenewalNotice.objects.get().membership == renewing_soon
    due.refresh_from_db()
    assert due.period_start == datetime.date(2026, 2, 8)


def test_the_daily_task_is_on_the_beat_schedule_and_sends_today_s_notices(outbox, monkeypatch):
    from members import tasks

    entries = [
        e
        for e in django_settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "members.send_renewal_notices"
    ]
    assert len(entries) == 1
    assert tasks.send_renewal_notices.name == "members.send_renewal_notices"
    member()
    monkeypatch.setattr(tasks.timezone, "localdate", lambda: THIRTY_DAYS_BEFORE)

    assert tasks.send_renewal_notices() == 1
    assert tasks.send_renewal_notices(batch_size=1) == 0
    assert RenewalNotice.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_notice_once(postgres, outbox):
    memberships = [member() for _ in range(12)]

    results = race(
        lambda: services.send_renewal_notices(on=THIRTY_DAYS_BEFORE, batch_size=3),
        lambda: services.send_renewal_notices(on=THIRTY_DAYS_BEFORE, batch_size=3),
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 12, results  # type: ignore[arg-type]
    assert sorted(RenewalNotice.objects.values_list("membership", flat=True)) == sorted(
        m.pk for m in memberships
    )
    assert MembershipEvent.objects.count() == 12
    assert notice_emails().count() == 12
    assert len(outbox) == 12
