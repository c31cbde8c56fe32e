"""The signed-in person's account is read from memory while no account has changed
(accounts.backends): a signed-in page reads its session and nothing else to know who asks. Any
change to an account, committed, is seen at the next request: a deactivated person is signed
out, a new password signs out the other sessions, new rights show. Each request has its own
instance of the account."""

import pytest
from django.test import Client

from accounts import backends
from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FLOOR = "/accounts/profile/"


@pytest.fixture
def person(db):
    return UserFactory()


def _signed_in(person: User) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_a_signed_in_request_reads_the_account_once(person):
    first = backends.kept_account(person.pk)
    assert first == person
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        again = backends.kept_account(person.pk)
    assert len(captured) == 0
    assert again == person
    assert again is not first  # each request its own instance


def test_what_one_request_sets_on_its_user_is_not_seen_by_the_next(person):
    first = backends.kept_account(person.pk)
    first.first_name = "Changed in memory"
    first._has_membership_page = True
    again = backends.kept_account(person.pk)
    assert again.first_name == person.first_name
    assert not hasattr(again, "_has_membership_page")


def test_a_deactivated_person_is_signed_out_at_the_next_request(
    person, django_capture_on_commit_callbacks
):
    client = _signed_in(person)
    assert client.get(FLOOR).status_code == 200
    assert client.get(FLOOR).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        person.is_active = False
        person.save()

    assert client.get(FLOOR).status_code == 302


def test_a_new_password_signs_out_the_other_sessions(person, django_capture_on_commit_callbacks):
    elsewhere = _signed_in(person)
    assert elsewhere.get(FLOOR).status_code == 200
    assert elsewhere.get(FLOOR).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        person.set_password("a whole new passphrase")
        person.save()

    assert elsewhere.get(FLOOR).status_code == 302


def test_a_deleted_account_is_signed_out(person, django_capture_on_commit_callbacks):
    client = _signed_in(person)
    assert client.get(FLOOR).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        User.objects.filter(pk=person.pk).delete()
    assert client.get(FLOOR).status_code == 302


def test_the_language_a_person_chooses_is_read_again(person, django_capture_on_commit_callbacks):
    from accounts.services import set_preferred_language

    assert backends.kept_account(person.pk).language != "fr"
    with django_capture_on_commit_callbacks(execute=True):
        set_preferred_language(user=person, language="fr")
    assert backends.kept_account(person.pk).language == "fr"


def test_the_account_is_read_again_after_a_change_of_another(
    person, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    backends.kept_account(person.pk)
    with django_capture_on_commit_callbacks(execute=True):
        UserFactory()
    with CaptureQueriesContext(connection) as captured:
        backends.kept_account(person.pk)
    assert len(captured) == 1
    assert "accounts_user" in captured.captured_queries[0]["sql"]


def test_an_unknown_or_malformed_id_is_nobody(person):
    assert backends.kept_account(person.pk + 1000) is None
    assert backends.kept_account("not a number") is None
