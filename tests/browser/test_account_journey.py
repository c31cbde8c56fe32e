"""A person's first visits, in a real browser: sign up, confirm the address, sign in and out,
and switch to French, which the portal remembers on their account."""

import re

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import Page, expect

from accounts.models import User

pytestmark = pytest.mark.browser

EMAIL = "new.member@example.org"
PASSWORD = "a-Long-and-unusual-passphrase-42"
CONFIRM_LINK = re.compile(r"https?://\S+/accounts/confirm-email/[^/\s]+/")


def sign_out(page: Page) -> None:
    # Located by the form's action, not the label, so the step works in either language.
    page.locator("nav form[action$='/accounts/logout/'] button[type=submit]").click()
    expect(page.locator("nav a[href$='/accounts/login/']")).to_be_visible()


def sign_in(page: Page) -> None:
    page.locator("nav a[href$='/accounts/login/']").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.locator("input[name=login]").fill(EMAIL)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/profile/$"))
    expect(page.locator("nav form[action$='/accounts/logout/'] button")).to_be_visible()


def expect_french(page: Page, why: str = "the page should be in French") -> None:
    expect(page, why).to_have_url(re.compile(r"^https?://[^/]+/fr/"))
    expect(page.locator("html"), why).to_have_attribute("lang", "fr")


def test_sign_up_confirm_sign_in_and_keep_french(page: Page, live_server, mailoutbox) -> None:
    # Sign up with an email address and a password.
    page.goto("/accounts/signup/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=False).first.fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))

    # The confirmation email reached the outbox the live server shares with this test.
    assert len(mailoutbox) == 1, [m.subject for m in mailoutbox]
    message = mailoutbox[0]
    assert message.to == [EMAIL]
    match = CONFIRM_LINK.search(message.body)
    assert match, f"No confirmation link in the email:\n{message.body}"
    link = match.group(0)
    assert link.startswith(live_server.url), link

    # Opening the link alone confirms nothing (ACCOUNT_CONFIRM_EMAIL_ON_GET is off)...
    page.goto(link)
    user = User.objects.get(email=EMAIL)
    assert not EmailAddress.objects.get(user=user, email=EMAIL).verified
    # ...the button does, and signs the person in.
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/accounts/profile/$"))
    expect(page.get_by_role("heading", level=1, name="My account")).to_be_visible()
    assert EmailAddress.objects.get(user=user, email=EMAIL).verified

    sign_out(page)
    expect(page).to_have_url(f"{live_server.url}/")
    sign_in(page)

    # Switch to French with the navbar's switcher.
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "button", name="FR", exact=True
    ).click()
    expect_french(page)
    expect(page).to_have_url(re.compile(r"/fr/accounts/profile/$"))
    user.refresh_from_db()
    assert user.language == "fr"
    # The switcher now marks French as the current language and offers English.
    switcher = page.locator("nav .language-switcher")
    expect(switcher.locator("[aria-current=true]")).to_have_text("FR")
    expect(switcher.get_by_role("button", name="EN", exact=True)).to_be_visible()

    # Later pages, and reloading them, stay in French.
    page.locator("nav a.navbar-brand").click()
    expect_french(page)
    page.reload()
    expect_french(page)

    # Signed out, the next sign-in starts from the unprefixed home page, in English...
    sign_out(page)
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # ...and lands in French: the language is remembered on the account.
    sign_in(page)
    expect_french(
        page,
        "Signing in should land on the language saved on the account (fr): "
        "AccountAdapter.get_login_redirect_url (accounts/adapter.py)",
    )
    expect(page).to_have_url(re.compile(r"/fr/accounts/profile/$"))
