"""Pages in English at the root and in French under /fr/, and a person's choice remembered."""

import re

import pytest
from django.conf import settings

from accounts.models import User
from tests import factories
from tests.accounts.conftest import signed_in_user_id

pytestmark = pytest.mark.django_db

FRENCH_CATALOGUE = settings.BASE_DIR / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]*)">', html)
    return match.group(1) if match else ""


def active_language(html: str) -> str:
    """The language the switcher marks as the current one."""
    match = re.search(
        r'<span[^>]*aria-current="true"[^>]*lang="([^"]+)"[^>]*>\s*(\w+)\s*</span>', html
    )
    assert match, "no current language in the switcher"
    assert match.group(2) == match.group(1).upper()
    return match.group(1)


def switcher(html: str) -> str:
    match = re.search(r'<(form|div)[^>]*class="language-switcher.*?</\1>', html, re.S)
    assert match, "no language switcher on the page"
    return match.group(0)


def test_french_home_page_is_marked_as_french(client):
    response = client.get("/fr/")

    assert response.status_code == 200
    html = response.content.decode()
    assert html_lang(html) == "fr"
    assert active_language(html) == "fr"
    assert re.search(r'<a [^>]*href="/"[^>]*hreflang="en"', switcher(html))
    assert 'title="Anglais"' in switcher(html)  # Django's own French for "English"


@pytest.fixture
def french_catalogue(settings, tmp_path):
    """The repository's French catalogue, compiled from its .po into a temporary directory.

    The compiled .mo is a build product (``make messages``) that may be missing or stale on a
    developer's machine; compiling here tests what is committed.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    target = tmp_path / "fr" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with FRENCH_CATALOGUE.open("rb") as po, (target / "django.mo").open("wb") as mo:
        write_mo(mo, read_po(po, locale="fr"))
    settings.LOCALE_PATHS = [tmp_path]  # resets Django's translation caches


@pytest.mark.xfail(
    not FRENCH_CATALOGUE.exists(),
    reason="locale/fr/LC_MESSAGES/django.po does not exist yet; passes once it is translated",
    strict=True,
)
def test_french_home_page_text_is_in_french(client, french_catalogue):
    html = client.get("/fr/").content.decode()

    for english, french in [
        ("Join a worldwide network for safer communities", "Rejoignez un réseau mondial"),
        ("Who may become a member", "Qui peut devenir membre"),
        ("How joining works", "Comment adhérer"),
        ("Create an account", "Créer un compte"),
        ("Private sector business or organisation", "Entreprise ou organisation du secteur privé"),
    ]:
        assert english not in html, f"not translated on /fr/: {english!r}"
        assert french in html


def test_english_home_page_is_not_translated(client, french_catalogue):
    html = client.get("/").content.decode()

    assert "Join a worldwide network for safer communities" in html
    assert "Rejoignez" not in html


def test_french_sign_in_page_uses_allauths_french(client):
    response = client.get("/fr/accounts/login/")

    assert response.status_code == 200
    html = response.content.decode()
    assert html_lang(html) == "fr"
    assert re.search(r"<h1[^>]*>\s*Connexion\s*</h1>", html)
    assert 'placeholder="Mot de passe"' in html
    assert 'placeholder="Adresse e-mail"' in html


def test_english_pages_are_at_the_root(client):
    response = client.get("/")

    html = response.content.decode()
    assert html_lang(html) == "en"
    assert active_language(html) == "en"
    assert re.search(r'<a [^>]*href="/fr/"[^>]*hreflang="fr"', switcher(html))
    login = client.get("/accounts/login/").content.decode()
    assert html_lang(login) == "en"
    assert re.search(r"<h1[^>]*>\s*Sign In\s*</h1>", login)


def test_anonymous_visitor_gets_plain_links_to_the_other_language(client):
    response = client.get("/")

    html = response.content.decode()
    assert "<form" not in switcher(html)
    assert "/i18n/language/" not in html
    assert "csrfmiddlewaretoken" not in html
    assert settings.CSRF_COOKIE_NAME not in response.cookies


def test_signed_in_person_switching_to_french_goes_to_the_french_page_and_it_is_saved(client, user):
    client.force_login(user)
    page = client.get("/accounts/profile/").content.decode()
    form = switcher(page)
    assert 'action="/i18n/language/"' in form
    assert 'name="next" value="/accounts/profile/"' in form
    assert 'name="language" value="fr"' in form

    response = client.post("/i18n/language/", {"language": "fr", "next": "/accounts/profile/"})

    assert response.status_code == 302
    assert response["Location"] == "/fr/accounts/profile/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    user.refresh_from_db()
    assert user.language == "fr"
    french = client.get(response["Location"])
    assert french.status_code == 200
    assert html_lang(french.content.decode()) == "fr"


def test_signing_back_in_lands_on_french_pages_for_someone_who_chose_french(client, user):
    client.force_login(user)
    client.post("/i18n/language/", {"language": "fr", "next": "/"})
    client.post("/fr/accounts/logout/")
    assert signed_in_user_id(client) is None
    client.cookies.clear()  # another browser: only the account remembers the choice

    response = client.post(
        "/accounts/login/", {"login": user.email, "password": factories.PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/fr/accounts/profile/"
    assert html_lang(client.get(response["Location"]).content.decode()) == "fr"


def test_signing_in_lands_on_english_pages_for_someone_who_kept_english(client, user):
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": factories.PASSWORD}
    )

    assert response["Location"] == "/accounts/profile/"


def test_anonymous_switch_sets_the_language_for_the_visit_only(client):
    response = client.post("/i18n/language/", {"language": "fr", "next": "/accounts/login/"})

    assert response.status_code == 302
    assert response["Location"] == "/fr/accounts/login/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert not User.objects.filter(language="fr").exists()


def test_language_switch_never_redirects_to_another_site(client, user):
    client.force_login(user)

    response = client.post(
        "/i18n/language/", {"language": "fr", "next": "https://evil.example.com/accounts/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/fr/"


def test_unknown_language_changes_nothing(client, user):
    client.force_login(user)

    response = client.post("/i18n/language/", {"language": "de", "next": "/accounts/profile/"})

    assert response["Location"] == "/accounts/profile/"
    user.refresh_from_db()
    assert user.language == "en"
