"""A French browser lands on French pages; the language a person signs in or up in is theirs."""

import pytest

from accounts.models import User
from tests import factories
from tests.accounts.conftest import signed_in_user_id

pytestmark = pytest.mark.django_db

FRENCH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "fr-CA,fr;q=0.9,en;q=0.5"}


def test_a_french_browser_on_its_first_visit_lands_on_the_french_home_page(client):
    response = client.get("/", **FRENCH_BROWSER)

    assert response.status_code == 302
    assert response["Location"] == "/fr/"
    assert "Accept-Language" in response["Vary"]


def test_a_french_browser_keeps_the_page_it_asked_for_in_french(client):
    response = client.get("/accounts/login/?next=/apply/", **FRENCH_BROWSER)

    assert response["Location"] == "/fr/accounts/login/?next=/apply/"


def test_a_visitor_who_chose_english_is_not_sent_to_french(client):
    client.post("/i18n/language/", {"language": "en", "next": "/"})

    response = client.get("/", **FRENCH_BROWSER)

    assert response.status_code == 200
    assert response.content.decode().count('lang="en"') >= 1


def test_an_english_browser_stays_on_english_pages(client):
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").status_code == 200
    assert client.get("/").status_code == 200


def test_health_probe_is_never_redirected(client):
    assert client.get("/healthz", **FRENCH_BROWSER).status_code in (200, 503)


def test_signing_in_from_the_french_page_lands_in_french_and_is_remembered(client):
    person = factories.UserFactory(language="en")

    response = client.post(
        "/fr/accounts/login/", {"login": person.email, "password": factories.PASSWORD}
    )

    assert signed_in_user_id(client) == str(person.pk)
    assert response["Location"] == "/fr/accounts/profile/"
    person.refresh_from_db()
    assert person.language == "fr"


def test_signing_up_on_the_french_page_makes_a_french_account(client):
    client.post(
        "/fr/accounts/signup/",
        {
            "email": "camille@example.org",
            "password1": "Une-phrase-longue-2026",
            "password2": "Une-phrase-longue-2026",
        },
    )

    assert User.objects.get(email="camille@example.org").language == "fr"


@pytest.mark.parametrize("path", ["//evil.example/", "//evil.example/apply/"])
def test_the_first_visit_redirect_never_leaves_the_portal(rf, path):
    from django.http import HttpResponse

    from icpc_portal.middleware import FirstVisitLanguageMiddleware

    request = rf.get("/", **FRENCH_BROWSER)
    request.path_info = request.path = path  # as a proxy may hand it over

    response = FirstVisitLanguageMiddleware(lambda r: HttpResponse("page"))(request)

    location = response.get("Location", "")
    assert not location.startswith("//"), location
    assert "evil.example" not in location.split("?")[0].split("/")[:3], location
