"""The public archive of sent editions, in the visitor's language, cached for visitors."""

import pytest
from django.urls import reverse
from django.utils import translation

from newsletter import services
from tests.factories import EditionFactory, SubscriberFactory
from tests.newsletter.conftest import send_now

pytestmark = pytest.mark.django_db

ARCHIVE = reverse("newsletter:archive")
# The editions of the page, and their count for the pages.
ARCHIVE_QUERIES = 2


def sent_edition(**fields):
    edition = EditionFactory(**fields)
    send_now(edition)
    edition.refresh_from_db()
    return edition


def test_the_archive_lists_sent_editions_only_in_the_visitors_language(client, outbox):
    SubscriberFactory()
    sent = sent_edition(subject_en="Spring news", subject_fr="Nouvelles du printemps")
    english_only = sent_edition(
        subject_en="English only", subject_fr="", body_fr="", english_for_french=True
    )
    EditionFactory(subject_en="Still a draft")

    english = client.get(ARCHIVE).content.decode()
    french = client.get("/fr" + ARCHIVE).content.decode()

    assert "Spring news" in english and "English only" in english
    assert "Still a draft" not in english
    assert "Nouvelles du printemps" in french and "English only" in french
    assert "Spring news" not in french
    with translation.override("fr"):
        detail, other_detail = sent.get_absolute_url(), english_only.get_absolute_url()
    page = client.get(detail).content.decode()
    assert "Nouvelles du printemps" in page and "<strong>plus sûres</strong>" in page
    other = client.get(other_detail).content.decode()
    assert '<div lang="en"><p>Dear members,</p>' in other  # marked as English on the page
    assert '<h1 class="h2">English only</h1>' in other


def test_an_edition_not_sent_is_not_in_the_archive(client):
    draft = EditionFactory()

    assert client.get(reverse("newsletter:edition", args=[draft.pk])).status_code == 404


@pytest.mark.parametrize("editions", [2, 12])
def test_the_archive_costs_the_same_queries_whatever_the_number_of_editions(
    client, django_assert_num_queries, outbox, editions
):
    for _ in range(editions):
        sent_edition()

    with django_assert_num_queries(ARCHIVE_QUERIES):
        response = client.get(ARCHIVE)

    assert response.status_code == 200


def test_the_archive_is_cached_for_visitors_and_retired_when_an_edition_is_sent(
    client, outbox, django_capture_on_commit_callbacks
):
    SubscriberFactory()
    sent_edition(subject_en="First")
    assert "First" in client.get(ARCHIVE).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        edition = EditionFactory(subject_en="Second")
        services.start_sending(edition=edition, queue=False)
        services.send_edition(edition_id=edition.pk, budget=None)

    assert "Second" in client.get(ARCHIVE).content.decode()
