"""The application asks for the representative's language; the Centre writes to them in it."""

import pytest

from applications import services
from applications.models import Application
from tests.applications.conftest import form_data

pytestmark = pytest.mark.django_db


def test_the_form_asks_for_the_representatives_language_and_keeps_it(applicant_client, applicant):
    draft = services.start_application(applicant=applicant)

    page = applicant_client.get(f"/applications/{draft.pk}/edit/").content.decode()
    assert 'name="rep_language"' in page
    applicant_client.post(f"/applications/{draft.pk}/edit/", form_data(rep_language="fr"))

    draft.refresh_from_db()
    assert draft.rep_language == "fr"


def test_a_post_without_the_language_keeps_the_one_chosen(applicant_client, applicant):
    draft = services.start_application(applicant=applicant)
    Application.objects.filter(pk=draft.pk).update(rep_language="fr")

    applicant_client.post(f"/applications/{draft.pk}/edit/", form_data({"org_name": "Forum"}))

    draft.refresh_from_db()
    assert (draft.org_name, draft.rep_language) == ("Forum", "fr")


def test_a_new_draft_starts_in_the_applicants_language(applicant):
    applicant.language = "fr"
    applicant.save(update_fields=["language"])

    assert services.start_application(applicant=applicant).rep_language == "fr"
