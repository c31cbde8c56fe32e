"""Starting an application and saving it as a draft, in as many sittings as the applicant needs."""

import pytest
from django.urls import reverse

from applications.models import Application, ApplicationEvent, AreaOfWork, Status
from tests.applications.conftest import field_block, field_errors, form_data, input_value
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def start(client) -> str:
    """Press "Start the application"; returns the address of the draft's form."""
    response = client.post("/apply/")
    assert response.status_code == 302
    return response["Location"]


def test_anonymous_visitor_is_sent_to_sign_in_before_applying(client):
    response = client.get("/apply/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/apply/"


def test_anonymous_post_starts_no_application(client):
    response = client.post("/apply/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Application.objects.exists()


def test_a_person_whose_email_is_not_verified_cannot_start_an_application(client):
    person = UserFactory(verified=False)
    client.force_login(person)

    response = client.post("/apply/")

    assert response.status_code == 200
    assert "account/verified_email_required.html" in [t.name for t in response.templates]
    assert not Application.objects.exists()


def test_apply_page_explains_what_to_have_ready_and_offers_to_start(applicant_client):
    response = applicant_client.get("/apply/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Start the application" in html
    assert "President of the Board" in html


def test_starting_creates_a_draft_and_opens_its_form(applicant_client, applicant):
    location = start(applicant_client)

    application = Application.objects.get()
    assert location == reverse("applications:edit", args=[application.pk])
    assert application.applicant == applicant
    assert application.status == Status.DRAFT
    assert application.reference is None
    event = ApplicationEvent.objects.get(application=application)
    assert (event.from_status, event.to_status, event.actor) == ("", Status.DRAFT, applicant)
    assert applicant_client.get(location).status_code == 200


def test_starting_again_returns_to_the_same_draft(applicant_client):
    first = start(applicant_client)

    second = start(applicant_client)

    assert second == first
    assert Application.objects.count() == 1
    assert "Continue my draft" in applicant_client.get("/apply/").content.decode()


def test_each_applicant_gets_a_draft_of_their_own(client, applicant_client, applicant):
    mine = start(applicant_client)
    other = UserFactory()
    client.force_login(other)

    theirs = start(client)

    assert theirs != mine
    assert Application.objects.filter(applicant=other).count() == 1


def test_saving_a_partial_draft_keeps_those_answers(applicant_client):
    edit = start(applicant_client)

    response = applicant_client.post(
        edit,
        form_data(
            {"org_name": "Safer Streets", "city": "Lyon", "country": "FR", "rep_declaration": True},
            action="save",
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == edit
    application = Application.objects.get()
    assert application.org_name == "Safer Streets"
    assert application.city == "Lyon"
    assert application.country == "FR"
    assert application.rep_declaration is True
    assert application.status == Status.DRAFT
    page = applicant_client.get(edit).content.decode()
    assert input_value(page, "org_name") == "Safer Streets"
    assert input_value(page, "city") == "Lyon"
    assert "Your draft is saved" in page


def test_a_bad_answer_is_shown_next_to_its_field_and_nothing_typed_is_lost(applicant_client):
    edit = start(applicant_client)

    response = applicant_client.post(
        edit,
        form_data(
            {
                "org_name": "Safer Streets",
                "city": "Lyon",
                "website": "not a url",
                "rep_email": "nope",
            },
            action="save",
        ),
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert field_errors(html, "website") == "Enter a valid URL."
    assert field_errors(html, "rep_email") == "Enter a valid email address."
    assert field_errors(html, "org_name") == ""
    # What was typed is still there, the wrong answers included, to be corrected.
    assert input_value(html, "website") == "not a url"
    assert input_value(html, "rep_email") == "nope"
    assert input_value(html, "org_name") == "Safer Streets"
    assert input_value(html, "city") == "Lyon"
    # The valid answers are saved; a wrong email is kept as typed (see test_form_email.py),
    # a wrong website is not.
    application = Application.objects.get()
    assert (application.org_name, application.city) == ("Safer Streets", "Lyon")
    assert (application.website, application.rep_email) == ("", "nope")


def test_a_bad_answer_does_not_erase_the_answer_saved_before(applicant_client):
    edit = start(applicant_client)
    applicant_client.post(edit, form_data({"website": "https://old.example.org"}, action="save"))

    applicant_client.post(edit, form_data({"website": "not a url"}, action="save"))

    assert Application.objects.get().website == "https://old.example.org"


def test_areas_of_work_are_saved_and_shown_ticked(applicant_client):
    edit = start(applicant_client)
    areas = list(AreaOfWork.objects.all()[:2])
    assert len(areas) == 2, "the data migration offers areas of work"

    response = applicant_client.post(
        edit, form_data({"org_name": "Safer Streets"}, areas=[a.pk for a in areas], action="save")
    )

    assert response.status_code == 302
    assert set(Application.objects.get().areas.all()) == set(areas)
    block = field_block(applicant_client.get(edit).content.decode(), "areas")
    for area in areas:
        assert f'value="{area.pk}"' in block
    assert block.count("checked") == 2


def test_unticking_every_area_of_work_clears_them(applicant_client):
    edit = start(applicant_client)
    area = AreaOfWork.objects.first()
    applicant_client.post(edit, form_data({}, areas=[area.pk], action="save"))

    applicant_client.post(edit, form_data({}, action="save"))

    assert not Application.objects.get().areas.exists()


def test_an_area_of_work_no_longer_offered_is_not_on_the_form(applicant_client):
    retired = AreaOfWork.objects.create(name_en="Retired topic", name_fr="Sujet retiré")
    retired.is_active = False
    retired.save()
    edit = start(applicant_client)

    html = applicant_client.get(edit).content.decode()

    assert "Retired topic" not in html
    response = applicant_client.post(edit, form_data({}, areas=[retired.pk], action="save"))
    assert response.status_code == 200
    assert field_errors(response.content.decode(), "areas")
    assert not Application.objects.get().areas.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_double_click_on_start_makes_one_draft(postgres):
    from applications import services
    from tests.concurrency import race

    person = UserFactory()
    results = race(
        lambda: services.start_application(applicant=person),
        lambda: services.start_application(applicant=person),
    )

    assert all(isinstance(result, Application) for result in results), results
    assert Application.objects.filter(applicant=person, status=Status.DRAFT).count() == 1


def test_removing_a_document_keeps_what_was_typed_beside_it(applicant_client, applicant):
    from applications.models import ApplicationDocument
    from tests.applications.conftest import complete_draft

    draft = complete_draft(applicant)
    letter = draft.documents.get()
    edit = reverse("applications:edit", args=[draft.pk])

    response = applicant_client.post(
        edit, form_data(org_name="Typed just before removing", remove=str(letter.pk))
    )

    assert response.status_code == 302
    assert not ApplicationDocument.objects.filter(pk=letter.pk).exists()
    draft.refresh_from_db()
    assert draft.org_name == "Typed just before removing"
    assert draft.status == Status.DRAFT


def test_a_draft_is_not_withdrawn_it_is_simply_left(applicant_client, applicant):
    from django.core.exceptions import ValidationError

    from applications import services
    from tests.applications.conftest import complete_draft

    draft = complete_draft(applicant)

    page = applicant_client.get(reverse("applications:detail", args=[draft.pk]))
    assert reverse("applications:withdraw", args=[draft.pk]) not in page.content.decode()
    with pytest.raises(ValidationError):
        services.withdraw_application(application=draft, by=applicant)
    response = applicant_client.post(reverse("applications:withdraw", args=[draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
