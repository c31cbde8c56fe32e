"""The footer's pages: how to contact the Centre, what the portal keeps (in English and French,
public, cached like the home page), the favicon, and allauth's "contact us" pointing somewhere."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.core.cache import caches
from django.template.loader import render_to_string
from django.test import Client

pytestmark = pytest.mark.django_db

PAGES = ["/contact/", "/privacy/"]


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def footer(html: str) -> str:
    match = re.search(r"<footer\b.*?</footer>", html, re.S)
    assert match
    return match.group(0)


@pytest.mark.parametrize("path", ["/", "/fr/", "/applications/", "/accounts/login/"])
def test_every_page_links_the_contact_and_privacy_pages_in_its_footer(client, user, path):
    if path == "/applications/":
        client.force_login(user)

    html = client.get(path).content.decode()

    prefix = "/fr" if path.startswith("/fr/") else ""
    for page in PAGES:
        assert f'href="{prefix}{page}"' in footer(html)


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_pages_are_public_in_english_and_french(client, path, language):
    url = path if language == "en" else f"/fr{path}"

    response = client.get(url)

    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.content.decode()


@pytest.mark.parametrize("path", PAGES)
def test_the_pages_are_served_from_the_cache_to_visitors(client, path, django_assert_num_queries):
    first = client.get(path)
    assert caches["pages"].get(f"page:{path}:en")[0] == first.content

    with django_assert_num_queries(0):
        second = client.get(path)

    assert second.templates == []
    assert second.content == first.content
    assert "Cookie" in second["Vary"]


def test_the_contact_page_names_the_director_of_administration_the_address_and_email(
    client, settings
):
    settings.DEFAULT_FROM_EMAIL = "ICPC Portal <membership@cipc-icpc.org>"

    html = client.get("/contact/").content.decode()

    text = text_of(html)
    assert "Director of Administration" in text
    assert "3535 avenue du Parc" in text
    assert 'href="mailto:membership@cipc-icpc.org"' in html


def test_the_privacy_page_says_what_is_kept_and_for_how_long(client, settings):
    settings.OUTBOX_RETENTION_DAYS = 45

    text = text_of(client.get("/privacy/").content.decode())

    for kept in ("Your account", "Applications and their documents", "The Board's votes"):
        assert kept in text
    assert "kept for 45 days" in text
    for cookie in ("session cookie", "CSRF", "language cookie"):
        assert cookie in text
    assert "no third-party tracker" in text


def test_the_favicon_is_linked_and_exists(client):
    html = client.get("/").content.decode()

    icons = re.findall(r'<link rel="(?:icon|apple-touch-icon)"[^>]*href="/static/([^"]+)"', html)
    assert "img/favicon.svg" in icons
    for icon in icons:
        assert finders.find(icon), icon


def test_the_admin_has_the_favicon_too(rf):
    request = rf.get("/admin/")
    request.user = AnonymousUser()
    html = render_to_string("admin/base_site.html", {}, request=request)

    assert 'rel="icon" href="/static/img/favicon.svg"' in html


@pytest.mark.parametrize(
    "path",
    ["/accounts/password/reset/", "/accounts/password/reset/done/", "/accounts/confirm-email/"],
)
def test_allauths_contact_us_leads_to_the_contact_page(path):
    html = Client().get(path).content.decode()

    assert "contact us" in html.lower()
    assert 'href="/contact/"' in html.split("<footer", 1)[0]
