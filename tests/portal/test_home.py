"""The public home page: who may join, how to start, and served from the cache to visitors."""

import re
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import caches as cache_handler
from django.test import Client
from django.utils.html import escape

from members.models import Category

pytestmark = pytest.mark.django_db


def links(html: str) -> list[str]:
    return re.findall(r'<a\b[^>]*\bhref="([^"]*)"', html)


def test_home_page_shows_the_four_statutory_categories(client):
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert len(Category.labels) == 4
    for label in Category.labels:
        assert escape(str(label)) in html
    assert html.count("category-card") == 4


def test_home_page_offers_sign_up_and_sign_in(client):
    html = client.get("/").content.decode()

    assert re.search(r'<a [^>]*href="/accounts/signup/"[^>]*>\s*Sign up\s*</a>', html)
    assert re.search(r'<a [^>]*href="/accounts/login/"[^>]*>\s*Sign in\s*</a>', html)
    assert "Sign out" not in html


def test_every_link_and_asset_on_the_home_page_exists(client):
    html = client.get("/").content.decode()
    targets = set(links(html)) | set(
        re.findall(r'<(?:link|script|img)\b[^>]*\b(?:href|src)="([^"]*)"', html)
    )
    assert targets

    for target in sorted(targets):
        parts = urlsplit(target)
        assert not parts.scheme and not parts.netloc, f"link to another site: {target}"
        if target.startswith("#"):
            assert f'id="{target[1:]}"' in html, target
        elif parts.path.startswith("/static/"):
            assert finders.find(parts.path.removeprefix("/static/")), target
        else:
            # Pages that need an account redirect to sign in; follow to where the visitor lands.
            response = Client().get(target, follow=True)
            assert response.status_code == 200, f"{target} answers {response.status_code}"


def test_anonymous_home_is_served_from_the_cache_without_touching_the_database(
    client, django_assert_num_queries
):
    first = client.get("/")
    assert "home.html" in [template.name for template in first.templates]
    assert cache_handler["pages"].get("page:/:en")[0] == first.content

    with django_assert_num_queries(0):
        second = client.get("/")

    assert second.status_code == 200
    assert second.templates == []  # nothing was rendered
    assert second.content == first.content
    assert second["Content-Type"] == "text/html; charset=utf-8"


def test_english_and_french_home_pages_are_cached_apart(client):
    client.get("/")

    french = client.get("/fr/").content.decode()

    assert '<html lang="fr">' in french
    assert '<html lang="en">' in client.get("/").content.decode()


def test_signed_in_home_is_not_the_cached_anonymous_page(client, user):
    client.get("/")
    client.force_login(user)

    response = client.get("/")

    html = response.content.decode()
    assert "home.html" in [template.name for template in response.templates]
    assert "Sign out" in html
    assert "Go to my account" in html
    assert 'href="/accounts/signup/"' not in html


def test_a_signed_in_page_is_never_served_to_visitors(client, user):
    client.force_login(user)
    assert "Sign out" in client.get("/").content.decode()

    html = Client().get("/").content.decode()

    assert "Sign out" not in html
    assert user.email not in html
    cached = cache_handler["pages"].get("page:/:en")
    assert cached is None or b"Sign out" not in cached[0]


def test_a_message_for_one_visitor_is_never_served_to_another(client, user):
    client.force_login(user)
    response = client.post("/accounts/logout/", follow=True)
    assert "You have signed out." in response.content.decode()

    html = Client().get("/").content.decode()

    assert "You have signed out." not in html
