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
def shared(redis_url):
    """Accounts are kept only where every process sees the same generations."""
    from core.pagecache import generations_shared
    from tests.conftest import need

    need("Redis as the cache", generations_shared(), "set REDIS_URL to a running Redis server")


@pytest.fixture
def person(db):
    return UserFactory()


def _signed_in(person: User) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_a_signed_in_request_reads_the_account_once(shared, person):
    first = backends.kept_account(person.pk)
    assert first == person
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        again = backends.kept_account(person.pk)
    assert len(captured) == 0
    assert again == person
    assert again is not first  # each request its own instance


def test_what_one_request_sets_on_its_user_is_not_seen_by_the_next(shared, person):
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
    shared, person, django_capture_on_commit_callbacks
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


# --- where the generations are shared (Redis) ----------------------------------------------------


def _queries(call) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    return [query["sql"] for query in captured.captured_queries]


def test_a_bump_redis_did_not_take_drops_every_kept_account_and_page(shared, person, monkeypatch):
    """A deactivation whose bump never reached Redis must not leave the account signed in
    in the process that made it (the others' subscriptions drop theirs when they come back)."""
    from django.core.cache import caches
    from redis.exceptions import ConnectionError as RedisConnectionError

    from accounts.people import PEOPLE
    from core import pagecache

    backends.kept_account(person.pk)
    caches["person-pages"].set("a-kept-page", b"<p>kept</p>")
    bound = PEOPLE._bind(caches["default"])

    def refused(**kwargs):
        raise RedisConnectionError("Redis is away")

    monkeypatch.setattr(bound, "bump", refused)
    monkeypatch.setattr(pagecache, "BUMP_RETRIES", (None,))
    with pytest.raises(RedisConnectionError):
        PEOPLE.bump()

    assert caches["person-pages"].get("a-kept-page") is None
    assert any("accounts_user" in sql for sql in _queries(lambda: backends.kept_account(person.pk)))


def test_a_kept_account_is_read_again_after_its_time_whatever_the_generation(
    shared, person, monkeypatch
):
    backends.kept_account(person.pk)
    assert _queries(lambda: backends.kept_account(person.pk)) == []
    monkeypatch.setattr(backends, "KEPT_ACCOUNT_SECONDS", 0)
    assert len(_queries(lambda: backends.kept_account(person.pk))) == 1


def test_without_shared_generations_no_account_is_kept(person, settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    backends.kept_account(person.pk)
    assert len(_queries(lambda: backends.kept_account(person.pk))) == 1


def test_joining_the_staff_group_moves_the_generation_on(
    shared, person, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group

    from accounts.people import PEOPLE

    group = Group.objects.create(name="Some staff")
    before = PEOPLE.current()
    with django_capture_on_commit_callbacks(execute=True):
        person.groups.add(group)
    assert PEOPLE.current() > before


def test_a_session_signed_in_before_the_backends_moved_stays_signed_in(person):
    from django.contrib.auth import BACKEND_SESSION_KEY

    client = _signed_in(person)
    session = client.session
    session[BACKEND_SESSION_KEY] = "allauth.account.auth_backends.AuthenticationBackend"
    session.save()

    assert client.get(FLOOR).status_code == 200
    assert client.session[BACKEND_SESSION_KEY] == "accounts.backends.AuthenticationBackend"


def test_the_renewal_moves_the_generation_on(shared, django_capture_on_commit_callbacks):
    import datetime

    from accounts.people import PEOPLE
    from members.services.renewal import renew_due_memberships
    from tests.factories import MembershipFactory, RepresentativeFactory

    membership = MembershipFactory(started_on=datetime.date(2025, 3, 10))
    RepresentativeFactory(organisation=membership.organisation)
    before = PEOPLE.current()
    with django_capture_on_commit_callbacks(execute=True):
        assert renew_due_memberships(on=membership.period_end + datetime.timedelta(days=1)).renewed
    assert PEOPLE.current() > before
