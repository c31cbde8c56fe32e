"""Staff are the accounts' help desk: they see accounts and send a password-reset link, but never
set a password or change the address people sign in with. Superusers keep every power."""

import re

import pytest
from django.contrib.messages import get_messages

from core.models import OutboxMessage
from tests import factories
from tests.accounts.conftest import change_form_data, link_to, signed_in_user_id

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"
NEW_PASSWORD = "a-brand-new-passphrase-2025"


@pytest.fixture
def staff(client, with_totp):
    person = factories.StaffFactory.create()
    with_totp(person)
    client.force_login(person)
    return client


@pytest.fixture
def superuser(client, with_totp):
    person = factories.UserFactory.create(is_staff=True, is_superuser=True)
    with_totp(person)
    client.force_login(person)
    return client


@pytest.fixture
def applicant():
    return factories.UserFactory.create(email="applicant@example.org", first_name="Ana")


def message_texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_staff_cannot_change_the_email_of_an_applicant(staff, applicant):
    form = change_form_data(staff.get(f"{USERS}{applicant.pk}/change/").content.decode())

    response = staff.post(
        f"{USERS}{applicant.pk}/change/",
        {**form, "email": "attacker@example.com", "first_name": "Ana Maria"},
    )

    assert response.status_code == 302
    applicant.refresh_from_db()
    assert applicant.email == "applicant@example.org"
    assert applicant.first_name == "Ana Maria"  # names stay a help desk's to correct


def test_staff_see_the_email_read_only_and_no_password_hash_nor_a_way_to_set_one(staff, applicant):
    html = staff.get(f"{USERS}{applicant.pk}/change/").content.decode()

    assert 'name="email"' not in html
    assert "applicant@example.org" in html
    assert applicant.password not in html
    assert "password/" not in html.replace("send-password-reset/", "")
    assert "If the person has forgotten it, send them a password-reset link." in html


@pytest.mark.parametrize("method", ["get", "post"])
def test_staff_cannot_set_the_password_of_an_applicant(staff, applicant, method):
    response = getattr(staff, method)(
        f"{USERS}{applicant.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 403
    applicant.refresh_from_db()
    assert applicant.check_password(factories.PASSWORD)


def test_staff_send_allauths_reset_link_from_the_list_through_the_outbox(
    staff, applicant, outbox, django_capture_on_commit_callbacks, client
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            USERS, {"action": "send_password_reset", "_selected_action": [applicant.pk]}
        )

    assert response.status_code == 302
    assert message_texts(response) == [
        "A password-reset link is on its way to applicant@example.org."
    ]
    assert OutboxMessage.objects.get().to == "applicant@example.org"
    (email,) = outbox
    assert email.to == ["applicant@example.org"]
    assert email.subject == "[ICPC] Password Reset Email"
    # The link is allauth's, and it works: the person chooses a new password and is signed in.
    reset = link_to(email, "/accounts/password/reset/key/")
    client.logout()
    form_url = client.get(reset)["Location"]
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    applicant.refresh_from_db()
    assert applicant.check_password(NEW_PASSWORD)
    assert signed_in_user_id(client) == str(applicant.pk)


def test_the_button_on_a_persons_page_sends_the_link_in_their_language(
    staff, outbox, django_capture_on_commit_callbacks
):
    person = factories.UserFactory.create(email="personne@example.org", language="fr")
    page = staff.get(f"{USERS}{person.pk}/change/").content.decode()
    assert f'action="{USERS}{person.pk}/send-password-reset/"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(f"{USERS}{person.pk}/send-password-reset/")

    assert response.status_code == 302
    assert response["Location"] == f"{USERS}{person.pk}/change/"
    (email,) = outbox
    assert email.to == ["personne@example.org"]
    assert re.search(r"/fr/accounts/password/reset/key/\S+", email.body)


def test_the_button_does_not_answer_a_get(staff, applicant, outbox):
    response = staff.get(f"{USERS}{applicant.pk}/send-password-reset/")

    assert response.status_code == 405
    assert not OutboxMessage.objects.exists()


def test_no_link_is_sent_to_an_inactive_account(staff, outbox, django_capture_on_commit_callbacks):
    person = factories.UserFactory.create(email="gone@example.org", is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            USERS, {"action": "send_password_reset", "_selected_action": [person.pk]}
        )

    assert message_texts(response) == [
        "No link was sent to gone@example.org: the account is not active."
    ]
    assert outbox == []
    assert not OutboxMessage.objects.exists()


def test_a_superuser_still_changes_an_email_and_sets_a_password(superuser, applicant):
    page = superuser.get(f"{USERS}{applicant.pk}/change/").content.decode()
    assert 'name="email"' in page

    changed = superuser.post(
        f"{USERS}{applicant.pk}/change/",
        {**change_form_data(page), "email": "new-address@example.org"},
    )
    password_page = superuser.get(f"{USERS}{applicant.pk}/password/")
    password_set = superuser.post(
        f"{USERS}{applicant.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert changed.status_code == 302
    assert password_page.status_code == 200
    assert password_set.status_code == 302
    applicant.refresh_from_db()
    assert applicant.email == "new-address@example.org"
    assert applicant.check_password(NEW_PASSWORD)
