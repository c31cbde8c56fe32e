"""A wrong email address in the draft is kept as typed and the page says what is wrong."""

import pytest
from django.urls import reverse

from applications import services
from applications.models import Application
from tests.applications.conftest import complete_draft, field_errors, form_data, input_value

pytestmark = pytest.mark.django_db


def test_a_wrong_email_saved_in_the_draft_is_still_there_with_its_message_on_reload(
    applicant_client, applicant
):
    draft = services.start_application(applicant=applicant)
    edit = reverse("applications:edit", args=[draft.pk])

    saved = applicant_client.post(
        edit, form_data({"org_name": "Safer Streets", "rep_email": "amina@"}, action="save")
    )
    reloaded = applicant_client.get(edit)

    for response in (saved, reloaded):
        html = response.content.decode()
        assert input_value(html, "rep_email") == "amina@"
        assert field_errors(html, "rep_email") == "Enter a valid email address."
    assert Application.objects.get().rep_email == "amina@"


def test_a_draft_with_a_wrong_email_is_not_submitted(applicant_client, applicant, mailoutbox):
    draft = complete_draft(applicant, rep_email="amina@")

    response = applicant_client.post(
        reverse("applications:edit", args=[draft.pk]),
        form_data(action="submit", rep_email="amina@"),
    )

    assert response.status_code == 400
    assert field_errors(response.content.decode(), "rep_email") == "Enter a valid email address."
    assert services.missing_for_submission(draft) == {"rep_email": "Enter a valid email address."}
    draft.refresh_from_db()
    assert draft.reference is None and not mailoutbox
