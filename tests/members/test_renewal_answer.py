"""The notice before renewal is answered in one click from the email, or on the portal: all is
right, or what changed (the staff are told); once only."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from members.models import (
    EndReason,
    MembershipEvent,
    MembershipEventKind,
    RenewalAnswer,
    RenewalNotice,
)
from members.services import end_membership
from members.services import member as services
from tests import factories
from tests.concurrency import race
from tests.members.test_membership_page import member, page_of, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _february_2026(today_is):
    """The dates below are written out: the member's period runs to 9 March 2026, and today
    is 20 February 2026, eighteen days before it renews."""
    today_is(datetime.date(2026, 2, 20))


RENEWS_ON = datetime.date(2026, 3, 10)
CHANGES = "Our executive director left in January; the new one is Ana Souza."


@pytest.fixture
def staff(db):
    return factories.StaffFactory()


@pytest.fixture
def representative(db):
    return factories.UserFactory(first_name="Lucie", last_name="Tremblay")


@pytest.fixture
def notice(representative) -> RenewalNotice:
    return RenewalNotice.objects.create(membership=member(representative), renews_on=RENEWS_ON)


def link(notice: RenewalNotice) -> str:
    return reverse("members:renewal_notice", args=[notice.answer_token()])


def test_the_emailed_link_shows_what_to_check_without_signing_in_and_changes_nothing(
    client, notice
):
    response = client.get(link(notice))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Renewal of the membership of Observatoire de la sécurité urbaine" in page
    assert "The membership renews on 10 March 2026." in page
    assert "Lucie Tremblay" in page
    assert "Executive Director · Holds a directorial position" in page
    assert 'value="confirmed"' in page and 'value="changes"' in page
    notice.refresh_from_db()
    assert not notice.is_answered
    assert not MembershipEvent.objects.exists()


def test_confirming_from_the_link_without_signing_in_records_the_answer(client, notice, outbox):
    response = client.post(link(notice), {"answer": "confirmed"})

    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.answer == RenewalAnswer.CONFIRMED
    assert notice.answered_at is not None
    assert notice.answered_by is None
    event = MembershipEvent.objects.get()
    assert (event.kind, event.by) == (MembershipEventKind.NOTICE_CONFIRMED, None)
    assert not outbox
    page = client.get(link(notice)).content.decode()
    assert "This notice was answered on" in page
    assert "Confirmed: the representative still qualifies" in page
    assert 'value="confirmed"' not in page


def test_changes_from_the_link_are_emailed_to_the_staff(
    client, notice, staff, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link(notice), {"answer": "changes", "notice-changes": CHANGES})

    notice.refresh_from_db()
    assert (notice.answer, notice.changes) == (RenewalAnswer.CHANGES, CHANGES)
    (email,) = outbox
    assert email.to == [staff.email]
    assert "Observatoire de la sécurité urbaine: changes reported before the renewal" in (
        email.subject
    )
    assert CHANGES in email.body
    assert "10 March 2026" in email.body
    assert "Sent from the link in the notice" in email.body
    assert f"/admin/members/membership/{notice.membership_id}/" in email.body


def test_changes_left_empty_are_asked_for_next_to_the_field(client, notice):
    response = client.post(link(notice), {"answer": "changes", "notice-changes": "  "})

    assert response.status_code == 400
    assert "Say what changed." in response.content.decode()
    notice.refresh_from_db()
    assert not notice.is_answered


def test_a_second_answer_is_refused_and_the_first_kept(client, notice, outbox):
    client.post(link(notice), {"answer": "confirmed"})

    response = client.post(link(notice), {"answer": "changes", "notice-changes": CHANGES})

    assert response.status_code == 400
    assert "already answered" in response.content.decode()
    notice.refresh_from_db()
    assert (notice.answer, notice.changes) == (RenewalAnswer.CONFIRMED, "")
    assert MembershipEvent.objects.count() == 1
    with pytest.raises(ValidationError, match="already answered"):
        services.answer_renewal_notice(notice=notice, by=None, confirmed=True)


def test_a_tampered_link_answers_a_clear_404(client, notice):
    token = notice.answer_token()

    response = client.get(reverse("members:renewal_notice", args=[token[:-2] + "xx"]))

    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()
    post = client.post(
        reverse("members:renewal_notice", args=["nonsense"]), {"answer": "confirmed"}
    )
    assert post.status_code == 404
    notice.refresh_from_db()
    assert not notice.is_answered


def test_the_representative_signed_in_on_the_link_is_recorded_as_the_one_who_answered(
    client, notice, representative
):
    signed_in(client, representative).post(link(notice), {"answer": "confirmed"})

    notice.refresh_from_db()
    assert notice.answered_by == representative


def test_the_membership_page_shows_the_notice_and_answers_it(client, notice, representative):
    signed_in(client, representative)
    page = page_of(client)
    assert "Renewal on 10 March 2026: please check" in page

    response = client.post(
        reverse("members:answer_notice", args=[notice.pk]), {"answer": "confirmed"}
    )

    assert response.status_code == 302
    notice.refresh_from_db()
    assert (notice.answer, notice.answered_by) == (RenewalAnswer.CONFIRMED, representative)
    page = page_of(client)
    assert "please check" not in page
    assert "Renewal notice confirmed" in page
    assert "Renewal notice for 10 March 2026 answered on" in page


def test_changes_left_empty_on_the_membership_page_keep_the_page_and_the_error(
    client, notice, representative
):
    signed_in(client, representative)

    response = client.post(
        reverse("members:answer_notice", args=[notice.pk]),
        {"answer": "changes", f"notice-{notice.pk}-changes": ""},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Say what changed." in page
    assert "Renewal on 10 March 2026: please check" in page


def test_changes_sent_from_the_membership_page_name_who_sent_them(
    client, notice, representative, staff, outbox, django_capture_on_commit_callbacks
):
    signed_in(client, representative)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("members:answer_notice", args=[notice.pk]),
            {"answer": "changes", f"notice-{notice.pk}-changes": CHANGES},
        )

    (email,) = outbox
    assert "Sent by Lucie Tremblay" in email.body
    assert CHANGES in email.body
    assert CHANGES in page_of(client)


def test_someone_elses_notice_cannot_be_answered_from_the_portal(client, notice):
    stranger = factories.UserFactory()

    response = signed_in(client, stranger).post(
        reverse("members:answer_notice", args=[notice.pk]), {"answer": "confirmed"}
    )

    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        services.answer_renewal_notice(notice=notice, by=stranger, confirmed=True)
    notice.refresh_from_db()
    assert not notice.is_answered


def test_the_notice_of_an_ended_membership_cannot_be_answered(client, notice):
    end_membership(
        membership=notice.membership,
        reason=EndReason.RESIGNED,
        note="",
        on=datetime.date(2026, 1, 5),
        by=None,
        tell=False,
    )

    with pytest.raises(ValidationError, match="This membership ended on"):
        services.answer_renewal_notice(notice=notice, by=None, confirmed=True)
    page = client.get(link(notice)).content.decode()
    assert "there is nothing to renew" in page
    assert 'value="confirmed"' not in page


# --- Two answers at once, on PostgreSQL: each thread has its own connection and transaction.


@pytest.mark.django_db(transaction=True)
def test_two_answers_at_once_record_one(postgres, representative):
    notice = RenewalNotice.objects.create(membership=member(representative), renews_on=RENEWS_ON)

    results = race(
        lambda: services.answer_renewal_notice(notice=notice, by=None, confirmed=True),
        lambda: services.answer_renewal_notice(
            notice=notice, by=representative, confirmed=False, changes=CHANGES
        ),
    )

    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(refused) == 1, results
    assert "already answered" in refused[0].messages[0]
    assert MembershipEvent.objects.count() == 1
    notice.refresh_from_db()
    assert notice.is_answered


def test_a_notice_whose_renewal_has_passed_asks_nothing_and_cannot_be_answered(
    client, notice, today_is
):
    today_is(RENEWS_ON + datetime.timedelta(days=3))

    page = client.get(link(notice)).content.decode()
    with pytest.raises(ValidationError, match="no longer needs an answer"):
        services.answer_renewal_notice(notice=notice, by=None, confirmed=True)

    assert "it no longer needs an answer" in page
    assert 'value="confirmed"' not in page
    notice.refresh_from_db()
    assert not notice.is_answered


def test_a_notice_for_a_membership_that_ends_instead_asks_nothing(client, notice, representative):
    services.resign_membership(membership=notice.membership, by=representative, at_period_end=True)

    page = client.get(link(notice)).content.decode()

    assert "instead of renewing: there is nothing to confirm" in page
    assert 'value="confirmed"' not in page
