"""The letter template: addressed to the President of the Board, filled in from the draft."""

import pytest
from django.urls import reverse
from django.utils import translation

from applications import services
from tests.applications.conftest import text_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/apply/letter/"


def test_the_letter_is_addressed_to_the_president_by_name_with_the_drafts_details(
    applicant_client, applicant
):
    UserFactory(first_name="Élodie", last_name="Marchand", is_board_president=True)
    draft = services.start_application(applicant=applicant)
    services.save_draft(
        application=draft,
        data={
            "org_name": "Safer Streets Montréal",
            "rep_first_name": "Amina",
            "rep_last_name": "Diallo",
            "rep_title": "Executive Director",
            "rep_email": "amina.diallo@example.org",
        },
        areas=None,
    )

    text = text_of(applicant_client.get(URL).content.decode())

    assert reverse("applications:letter_template") == URL
    assert "Élodie Marchand President of the Board of Directors" in text
    assert "Dear Élodie Marchand," in text
    assert "On behalf of Safer Streets Montréal, I have the honour to apply" in text
    assert "Amina Diallo, Executive Director." in text
    assert "amina.diallo@example.org" in text


def test_without_a_president_the_letter_names_the_title_only(client):
    text = text_of(client.get(URL).content.decode())

    assert "[Place and date] President of the Board of Directors" in text
    assert "Dear President," in text
    assert "On behalf of [organisation's name]" in text


def test_the_letter_is_written_in_the_pages_language(client):
    with translation.override("en"):  # the middleware's French does not outlive the test
        response = client.get("/fr" + URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="fr">' in html
    letter = html[html.index("<article") : html.index("</article>")]
    assert "Centre international pour la prévention de la criminalité" in letter
