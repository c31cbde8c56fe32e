"""The staff's newsletter screens: composing, previewing in each language, the test send,
sending with the refusal of a missing French text, pausing, the progress, and subscribers."""

import pytest
from django.urls import reverse

from newsletter.models import Edition, EditionStatus, Subscriber, SubscriberStatus
from tests.factories import EditionFactory, SubscriberFactory
from tests.newsletter.conftest import send_now

pytestmark = pytest.mark.django_db


def test_staff_compose_an_edition_as_a_draft(staff_client):
    response = staff_client.post(
        reverse("admin:newsletter_edition_add"),
        {
            "subject_en": "June news",
            "body_en": "Hello **members**",
            "subject_fr": "",
            "body_fr": "",
            "audience": "everyone",
            "topic": "",
            "status_changes-TOTAL_FORMS": "0",
            "status_changes-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    edition = Edition.objects.get()
    assert edition.status == EditionStatus.DRAFT
    assert edition.created_by == staff_client.staff
    page = staff_client.get(reverse("admin:newsletter_edition_change", args=[edition.pk]))
    assert "The French subject and text are missing" in page.content.decode()


@pytest.mark.parametrize("language,expected", [("en", "News from"), ("fr", "Nouvelles du")])
def test_the_preview_shows_each_language(staff_client, language, expected):
    edition = EditionFactory()

    response = staff_client.get(
        reverse("admin:newsletter_edition_preview", args=[edition.pk, language])
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert expected in page and "<h2>" in page


def test_send_me_a_test_emails_the_staff_member(staff_client, outbox, committed):
    edition = EditionFactory()

    with committed():
        response = staff_client.post(reverse("admin:newsletter_edition_test", args=[edition.pk]))

    assert response.status_code == 302
    assert [m.to for m in outbox] == [[staff_client.staff.email]] * 2


def test_send_now_refuses_an_edition_without_french_with_a_clear_message(staff_client):
    SubscriberFactory()
    edition = EditionFactory(subject_fr="", body_fr="")

    response = staff_client.post(
        reverse("admin:newsletter_edition_send", args=[edition.pk]), follow=True
    )

    assert "The French subject and text are missing" in response.content.decode()
    edition.refresh_from_db()
    assert edition.status == EditionStatus.DRAFT


def test_send_now_pause_and_the_progress_bar(staff_client, outbox, committed):
    SubscriberFactory.create_batch(3)
    edition = EditionFactory()

    with committed():  # the sending task runs in-process after the commit
        staff_client.post(reverse("admin:newsletter_edition_send", args=[edition.pk]))

    edition.refresh_from_db()
    assert edition.status == EditionStatus.SENT
    assert len(outbox) == 3
    page = staff_client.get(reverse("admin:newsletter_edition_change", args=[edition.pk]))
    text = page.content.decode()
    assert '<progress id="newsletter-progress" value="3" max="3">' in text
    assert "Sent 3, failed 0, left 0" in text


def test_pause_and_resume_buttons_move_the_edition(staff_client):
    SubscriberFactory()
    edition = EditionFactory()
    from newsletter import services

    services.start_sending(edition=edition, queue=False)

    staff_client.post(reverse("admin:newsletter_edition_pause", args=[edition.pk]))
    edition.refresh_from_db()
    assert edition.status == EditionStatus.PAUSED
    page = staff_client.get(reverse("admin:newsletter_edition_change", args=[edition.pk]))
    assert "Resume</button>" in page.content.decode()


def test_staff_mark_an_address_as_bouncing_and_editions_skip_it(staff_client, outbox):
    bouncing = SubscriberFactory(email="gone@example.net")
    SubscriberFactory(email="fine@example.net")

    staff_client.post(
        reverse("admin:newsletter_subscriber_changelist"),
        {"action": "mark_bouncing", "_selected_action": [bouncing.pk]},
    )
    send_now(EditionFactory())

    assert Subscriber.objects.get(pk=bouncing.pk).status == SubscriberStatus.BOUNCING
    assert [m.to for m in outbox] == [["fine@example.net"]]


def test_the_subscriber_list_exports_as_csv(staff_client):
    subscriber = SubscriberFactory(email="csv@example.net", language="fr")

    response = staff_client.post(
        reverse("admin:newsletter_subscriber_changelist"),
        {"action": "export_csv", "_selected_action": [subscriber.pk]},
    )

    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[1].startswith("csv@example.net,fr,subscribed,public")


def test_the_lists_and_the_schedule_page_open(staff_client, outbox):
    SubscriberFactory.create_batch(2)
    sent = EditionFactory()
    send_now(sent)
    draft = EditionFactory()

    editions = staff_client.get(reverse("admin:newsletter_edition_changelist"))
    subscribers = staff_client.get(reverse("admin:newsletter_subscriber_changelist"))
    schedule = staff_client.get(reverse("admin:newsletter_edition_schedule", args=[draft.pk]))

    assert editions.status_code == subscribers.status_code == schedule.status_code == 200
    assert "2 / 0 / 0" in editions.content.decode()
    assert 'name="at_0"' in schedule.content.decode()


def test_staff_schedule_an_edition_for_later(staff_client):
    edition = EditionFactory()

    response = staff_client.post(
        reverse("admin:newsletter_edition_schedule", args=[edition.pk]),
        {"at_0": "2099-06-01", "at_1": "09:00"},
    )

    assert response.status_code == 302
    edition.refresh_from_db()
    assert edition.status == EditionStatus.SCHEDULED
    assert edition.scheduled_at.year == 2099


def test_an_edition_being_sent_offers_no_save_button_as_nothing_can_be_changed(staff_client):
    SubscriberFactory()
    edition = EditionFactory()
    draft_page = staff_client.get(reverse("admin:newsletter_edition_change", args=[edition.pk]))
    assert 'name="_save"' in draft_page.content.decode()
    from newsletter import services

    services.start_sending(edition=edition, queue=False)

    page = staff_client.get(reverse("admin:newsletter_edition_change", args=[edition.pk]))
    assert 'name="_save"' not in page.content.decode()
    assert 'name="_continue"' not in page.content.decode()
