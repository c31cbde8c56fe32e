"""Helpers for driving allauth's pages through the test client the way a browser would."""

import re
import time
from html import unescape
from urllib.parse import urlsplit

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.contrib.auth import SESSION_KEY

from tests.factories import PASSWORD


def links_in(text: str) -> list[str]:
    """Every http(s) URL in an email body."""
    return re.findall(r"https?://[^\s<>\"]+", text)


def path_of(url: str) -> str:
    """The path (and query) a link in an email points to, for the test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def link_to(message, fragment: str) -> str:
    """The single link in ``message`` whose path contains ``fragment``, as a test-client path."""
    matches = [path_of(url) for url in links_in(message.body) if fragment in url]
    assert len(matches) == 1, f"expected one link with {fragment!r} in:\n{message.body}"
    return matches[0]


def signed_in_user_id(client) -> str | None:
    return client.session.get(SESSION_KEY)


def input_tag(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    return match.group(0) if match else ""


def field_error(html: str, name: str) -> str:
    """The error text shown with the input named ``name``: the element its aria-describedby
    points to, which must follow the input before the next field. Empty when there is none."""
    tag = input_tag(html, name)
    described_by = re.search(r'aria-describedby="([^"]*)"', tag)
    if not described_by:
        return ""
    for element_id in described_by.group(1).split():
        if not element_id.endswith("_error"):
            continue
        after_input = html[html.index(tag) + len(tag) :]
        next_input = re.search(r"<input\b", after_input)
        scope = after_input[: next_input.start()] if next_input else after_input
        match = re.search(rf'<div[^>]*id="{re.escape(element_id)}"[^>]*>(.*?)</div>', scope, re.S)
        if match:
            return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())
    return ""


def change_form_data(html: str) -> dict[str, str | list[str]]:
    """The values a browser would send back from an admin change form, as rendered."""
    data: dict[str, str | list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'\bname="([^"]+)"', tag)
        if not name or 'type="submit"' in tag:
            continue
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        value = re.search(r'\bvalue="([^"]*)"', tag)
        default = "on" if 'type="checkbox"' in tag else ""
        data[name.group(1)] = unescape(value.group(1)) if value else default
    for select in re.finditer(r"<select([^>]*)>(.*?)</select>", html, re.S):
        name = re.search(r'\bname="([^"]+)"', select.group(1))
        if not name:
            continue
        chosen = re.findall(r'<option value="([^"]*)"[^>]*selected', select.group(2))
        if "multiple" in select.group(1):
            data[name.group(1)] = chosen
        else:
            data[name.group(1)] = chosen[0] if chosen else ""
    return data


def current_totp_code(secret: str) -> str:
    """The code an authenticator app shows right now for ``secret``.

    allauth accepts only the current period's code (MFA_TOTP_TOLERANCE is 0), so a code taken in
    the last second of a period is not handed out: wait for the next period instead.
    """
    period = mfa_settings.TOTP_PERIOD
    remaining = period - time.time() % period
    if remaining < 1:
        time.sleep(remaining + 0.01)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


@pytest.fixture
def totp_secret() -> str:
    return generate_totp_secret()


@pytest.fixture
def with_totp(totp_secret):
    """Turn on TOTP (and recovery codes, as allauth does) for a user; returns the codes."""

    def activate(user) -> list[str]:
        TOTP.activate(user, totp_secret)
        return RecoveryCodes.activate(user).generate_codes()

    return activate


@pytest.fixture
def sign_in_with_password():
    """POST the sign-in form the way the page does, keeping ``next`` from the page's URL."""

    def sign_in(client, email: str, password: str = PASSWORD, login_url: str = "/accounts/login/"):
        page = client.get(login_url)
        assert page.status_code == 200, page
        data = {"login": email, "password": password}
        next_field = re.search(r'<input[^>]*name="next"[^>]*value="([^"]*)"', page.content.decode())
        if next_field:
            data["next"] = unescape(next_field.group(1))
        return client.post(urlsplit(login_url).path, data)

    return sign_in
