"""An area of work that an application has chosen is retired, never deleted: deleting it would take
it off applications already sent or decided. An area nobody chose may be deleted."""

import threading

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.utils import timezone

from applications.admin import AreaOfWorkAdmin
from applications.models import Application, AreaOfWork, Status
from tests.applications.conftest import SubmittedApplicationFactory

pytestmark = pytest.mark.django_db

AREAS = "/admin/applications/areaofwork/"
RETIRE_INSTEAD = "Retire it instead: untick “offered on the form”"


@pytest.fixture
def unused():
    return AreaOfWork.objects.create(name_en="Road safety", name_fr="Sécurité routière")


@pytest.fixture
def used():
    area = AreaOfWork.objects.create(name_en="Night-time economy", name_fr="Vie nocturne")
    decided = SubmittedApplicationFactory(status=Status.APPROVED, decided_at=timezone.now())
    decided.areas.add(area)
    return area


def message_texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_an_unused_area_is_deleted_from_its_page(staff_client, unused):
    confirm = staff_client.get(f"{AREAS}{unused.pk}/delete/")
    assert confirm.status_code == 200

    response = staff_client.post(f"{AREAS}{unused.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not AreaOfWork.objects.filter(pk=unused.pk).exists()


def test_the_page_of_an_area_in_use_offers_no_deletion(staff_client, used):
    html = staff_client.get(f"{AREAS}{used.pk}/change/").content.decode()

    assert f"{AREAS}{used.pk}/delete/" not in html
    assert 'name="is_active"' in html  # retiring it is what is offered


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_area_chosen_by_a_decided_application_is_not_deleted_and_staff_are_told_to_retire_it(
    staff_client, used, method
):
    application = used.applications.get()

    response = getattr(staff_client, method)(f"{AREAS}{used.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert response["Location"] == f"{AREAS}{used.pk}/change/"
    (message,) = message_texts(response)
    assert message.startswith("“Night-time economy” was not deleted: an application has chosen it.")
    assert RETIRE_INSTEAD in message
    assert AreaOfWork.objects.filter(pk=used.pk).exists()
    assert list(application.areas.all()) == [used]


def test_an_area_chosen_only_by_a_draft_is_kept_too(staff_client):
    area = AreaOfWork.objects.create(name_en="Cybercrime", name_fr="Cybercriminalité")
    SubmittedApplicationFactory(status=Status.DRAFT).areas.add(area)

    response = staff_client.post(f"{AREAS}{area.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert AreaOfWork.objects.filter(pk=area.pk).exists()


def test_the_delete_action_refuses_a_selection_with_an_area_in_use_and_names_it(
    staff_client, used, unused
):
    response = staff_client.post(
        AREAS, {"action": "delete_unused", "_selected_action": [used.pk, unused.pk]}
    )

    assert response.status_code == 302
    (message,) = message_texts(response)
    assert "“Night-time economy” was not deleted" in message
    assert "Road safety" not in message
    assert RETIRE_INSTEAD in message
    assert AreaOfWork.objects.filter(pk__in=[used.pk, unused.pk]).count() == 2


def test_the_delete_action_deletes_unused_areas_after_confirmation(staff_client, unused):
    other = AreaOfWork.objects.create(name_en="Hate crime", name_fr="Crimes haineux")
    selection = {"action": "delete_unused", "_selected_action": [unused.pk, other.pk]}

    confirm = staff_client.post(AREAS, selection)
    assert confirm.status_code == 200
    assert "Are you sure" in confirm.content.decode()
    assert AreaOfWork.objects.filter(pk__in=[unused.pk, other.pk]).count() == 2

    response = staff_client.post(AREAS, {**selection, "post": "yes"})

    assert response.status_code == 302
    assert not AreaOfWork.objects.filter(pk__in=[unused.pk, other.pk]).exists()


def test_djangos_own_delete_action_is_not_offered(staff_client, used):
    html = staff_client.get(AREAS).content.decode()
    response = staff_client.post(
        AREAS, {"action": "delete_selected", "_selected_action": [used.pk], "post": "yes"}
    )

    assert 'value="delete_selected"' not in html
    assert 'value="delete_unused"' in html
    assert AreaOfWork.objects.filter(pk=used.pk).exists()
    assert response.status_code in (200, 302)


def test_the_list_says_how_many_applications_chose_each_area(staff_client, used, unused):
    SubmittedApplicationFactory(status=Status.SUBMITTED).areas.add(used)

    response = staff_client.get(AREAS, {"q": "Night-time"})

    assert "2 applications" in response.content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_area_chosen_while_its_deletion_is_confirmed_is_kept(
    postgres, staff_client, unused, monkeypatch
):
    """An applicant saves a draft that chooses the area after the confirmation page was shown
    and just before the deletion: the area stays, and so does the applicant's choice."""
    draft = SubmittedApplicationFactory(status=Status.DRAFT)

    def choose_the_area() -> None:
        try:
            Application.objects.get(pk=draft.pk).areas.add(unused)  # committed on its own
        finally:
            connection.close()

    log_deletions = AreaOfWorkAdmin.log_deletions

    def applicant_saves_meanwhile(self, request, queryset):
        applicant = threading.Thread(target=choose_the_area)
        applicant.start()
        applicant.join(10)
        return log_deletions(self, request, queryset)

    monkeypatch.setattr(AreaOfWorkAdmin, "log_deletions", applicant_saves_meanwhile)

    response = staff_client.post(
        AREAS, {"action": "delete_unused", "_selected_action": [unused.pk], "post": "yes"}
    )

    assert list(Application.objects.get(pk=draft.pk).areas.all()) == [unused]
    assert AreaOfWork.objects.filter(pk=unused.pk).exists()
    assert response.status_code == 302
    (message,) = message_texts(response)
    assert "“Road safety” was not deleted" in message
