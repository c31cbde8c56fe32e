"""A membership application from start to finish, in a real browser: the applicant fills in and
submits the form, the Centre's staff send it to the Board, four directors vote for it, and the
representative it names accepts the invitation and finds the membership on their account."""

import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect

from accounts.models import User
from tests.factories import PASSWORD, PDF, DirectorFactory, StaffFactory, UserFactory, with_totp

from .conftest import new_context
from .test_accessibility import check, screenshot

pytestmark = pytest.mark.browser

ORG = "Safer Streets Alliance"
REP_EMAIL = "rep.new@example.org"
REP_PASSWORD = "a-Fresh-and-unusual-passphrase-77"
LINK = re.compile(r"https?://\S+")


def link_in(message, fragment: str) -> str:
    """The path (and query) of the one link in an email whose URL contains ``fragment``.

    Emails carry SITE_URL, not the live server's address, so only the path is followed."""
    urls = [url for url in LINK.findall(message.body) if fragment in url]
    assert len(urls) == 1, f"Expected one link with {fragment!r} in:\n{message.body}"
    parts = urlsplit(urls[0])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def signed_in_context(browser: Browser, live_server, user: User) -> BrowserContext:
    """A fresh browser context holding a session of ``user``, as after a sign-in with 2FA."""
    client = Client()
    client.force_login(user)
    context = new_context(browser, live_server.url)
    context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
                "httpOnly": True,
                "secure": django_settings.SESSION_COOKIE_SECURE,
            }
        ]
    )
    return context


def messages_to(mailoutbox, address: str) -> list:
    return [m for m in mailoutbox if address in m.to]


@pytest.mark.usefixtures("migrated_data")
def test_application_from_the_form_to_the_boards_vote_and_the_new_member(
    browser: Browser, page: Page, live_server, mailoutbox, tmp_path
) -> None:
    applicant = UserFactory.create(email="applicant@example.org")
    staff = StaffFactory.create()
    directors = [DirectorFactory.create(is_board_president=(i == 0)) for i in range(7)]
    for person in [staff, *directors]:
        with_totp(person)
    letter = tmp_path / "signed-letter.pdf"
    letter.write_bytes(PDF)

    # --- 1. The applicant signs in and applies -------------------------------------------------
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(applicant.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/profile/$"))

    nav = page.get_by_role("navigation", name="Main navigation")
    nav.get_by_role("link", name="My applications").click()
    page.get_by_role("link", name="Apply for membership").click()
    expect(page).to_have_url(re.compile(r"/apply/$"))
    page.get_by_role("button", name="Start the application").click()
    expect(page).to_have_url(re.compile(r"/applications/\d+/edit/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Membership application")

    # Section 1: the organisation.
    page.get_by_label("Organisation name").fill(ORG)
    page.get_by_label("Acronym").fill("SSA")
    page.get_by_label("Statutory category").select_option(
        label="National or international non-governmental organisation"
    )
    page.get_by_label("Country").select_option(label="Canada")
    page.get_by_label("City").fill("Montréal")
    page.get_by_label("Website").fill("not a url")
    page.get_by_label("Work in crime prevention and community safety").fill(
        "Neighbourhood mediation and youth programmes in twelve cities."
    )
    page.get_by_label("Youth and schools").check()
    page.get_by_label("Victim support").check()
    # Section 2: the designated representative, a person with no account yet.
    page.get_by_label("First name").fill("Rosa")
    page.get_by_label("Last name").fill("Newman")
    page.get_by_label("Title or position").fill("Executive Director")
    page.get_by_label("Email", exact=True).fill(REP_EMAIL)
    page.get_by_label("Phone").fill("+1 514 555 0199")
    page.get_by_label("Holds a directorial position").check()
    page.get_by_label("I declare that the representative holds the position").check()
    # Section 3: why the organisation wants to join.
    page.get_by_label("Why the organisation wants to join").fill(
        "To learn from other members and share our evaluations."
    )
    page.get_by_label("agrees to abide by its statutes").check()
    # Section 4: the signed letter.
    page.get_by_label("Signed application letter").set_input_files(letter)
    check(page, "the application form, filled in")

    # A mistyped website: the answer is refused beside the field, nothing else is lost.
    page.get_by_role("button", name="Submit the application").click()
    website = page.locator("#div_id_website")
    expect(website.locator(".invalid-feedback")).to_contain_text("Enter a valid URL")
    expect(page.get_by_label("Website")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.get_by_label("Website")).to_have_accessible_description("Enter a valid URL.")
    expect(page.locator("main .alert-danger").first).to_contain_text("need your attention")
    uploaded = page.get_by_role("list", name="Documents uploaded")
    expect(uploaded).to_contain_text("signed-letter.pdf")
    expect(uploaded).to_contain_text("Signed application letter")
    expect(page.get_by_label("Organisation name")).to_have_value(ORG)
    expect(page.get_by_label("Statutory category")).to_have_value("ngo")
    expect(page.get_by_label("Country")).to_have_value("CA")
    expect(page.get_by_label("Email", exact=True)).to_have_value(REP_EMAIL)
    expect(page.get_by_label("Youth and schools")).to_be_checked()
    expect(page.get_by_label("Holds a directorial position")).to_be_checked()
    expect(page.get_by_label("agrees to abide by its statutes")).to_be_checked()
    screenshot(page, "application-form-errors")
    check(page, "the application form showing an error")

    page.get_by_label("Website").fill("https://safer-streets.example.org")
    page.get_by_role("button", name="Submit the application").click()
    reference = f"APP-{timezone.localdate().year}-0001"
    expect(page).to_have_url(re.compile(r"/applications/\d+/$"))
    expect(page.locator("main [role=status]")).to_contain_text(f"Application {reference}")
    expect(page.get_by_role("heading", level=1)).to_have_text(ORG)
    expect(page.get_by_text(f"Reference {reference}")).to_be_visible()
    expect(page.locator("main .badge.fs-6")).to_have_text("Submitted, being checked")
    assert [m.subject for m in messages_to(mailoutbox, applicant.email)] == [
        f"[ICPC] Application {reference} received"
    ]

    # --- 2. The Centre's staff check it and send it to the Board -------------------------------
    staff_context = signed_in_context(browser, live_server, staff)
    try:
        staff_page = staff_context.new_page()
        staff_page.goto("/admin/applications/application/")
        row = staff_page.locator("#result_list tbody tr", has_text=reference)
        expect(row).to_contain_text(ORG)
        expect(row).to_contain_text("Submitted, being checked")
        screenshot(staff_page, "staff-queue")
        row.get_by_role("link", name=reference).click()
        expect(staff_page.locator("#content h2").first).to_contain_text(reference)
        staff_page.get_by_role("link", name="Send to the Board").click()
        deadline = staff_page.get_by_label("The vote closes on")
        expect(deadline).not_to_have_value("")
        staff_page.get_by_role("button", name="Open the Board's vote").click()
        expect(staff_page.locator("ul.messagelist li.success")).to_contain_text(
            "every director has been emailed"
        )
        expect(staff_page.get_by_role("link", name="Send to the Board")).to_have_count(0)
    finally:
        staff_context.close()

    for director in directors:
        received = messages_to(mailoutbox, director.email)
        assert [m.subject for m in received] == [
            f"[ICPC] Board vote: Membership application: {reference} – {ORG}"
        ], director.email

    # --- 3. Four directors vote for it; the fourth vote settles it -----------------------------
    voters = directors[:4]
    for number, director in enumerate(voters, start=1):
        ballot_path = link_in(messages_to(mailoutbox, director.email)[0], "/admin/board/ballot/")
        director_context = signed_in_context(browser, live_server, director)
        try:
            ballot_page = director_context.new_page()
            ballot_page.goto(ballot_path)
            expect(ballot_page.locator("dl.board-file")).to_contain_text(ORG)
            expect(ballot_page.locator("dl.board-file")).to_contain_text("signed-letter.pdf")
            tally = ballot_page.locator("#tally table.board-tally tbody td")
            expect(tally.nth(0)).to_have_text(str(number - 1))  # For
            expect(tally.nth(4)).to_have_text(str(7 - (number - 1)))  # Not yet voted
            if number == 1:
                screenshot(ballot_page, "ballot")
            ballot_page.locator("#vote-form").get_by_label("For", exact=True).check()
            ballot_page.get_by_role("button", name="Record my vote").click()
            success = ballot_page.locator("ul.messagelist li.success")
            expect(success).to_contain_text("Your vote is recorded.")
            expect(tally.nth(0)).to_have_text(str(number))
            if number < len(voters):
                expect(success).not_to_contain_text("the Board has decided")
            else:
                expect(success).to_contain_text("the Board has decided (Approved)")
                expect(ballot_page.locator("#tally")).to_contain_text("Decision: Approved")
                expect(ballot_page.locator("#vote-form")).to_have_count(0)
                screenshot(ballot_page, "ballot-decided")
        finally:
            director_context.close()

    assert [m.subject for m in messages_to(mailoutbox, applicant.email)] == [
        f"[ICPC] Application {reference} received",
        f"[ICPC] Welcome to the Centre: {ORG} is now a member",
    ]

    # --- 4. The representative accepts the invitation ------------------------------------------
    (welcome,) = messages_to(mailoutbox, REP_EMAIL)
    assert welcome.subject == f"[ICPC] {ORG} asks you to be its representative at the Centre"
    page.context.clear_cookies()
    page.goto(link_in(welcome, "/accounts/password/reset/key/"))
    page.locator("input[name=password1]").fill(REP_PASSWORD)
    page.locator("input[name=password2]").fill(REP_PASSWORD)
    page.locator("main form button[type=submit][name=action]").click()
    expect(page).not_to_have_url(re.compile(r"-set-password/$"))
    if not page.url.endswith("/accounts/profile/"):
        # Today the page only says the password is changed; the person then signs in.
        # (With ACCOUNT_LOGIN_ON_PASSWORD_RESET = True they would land on their account.)
        expect(page.locator("main")).to_contain_text("Your password is now changed.")
        page.goto("/accounts/login/")
        page.locator("input[name=login]").fill(REP_EMAIL)
        page.locator("input[name=password]").fill(REP_PASSWORD)
        page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/profile/$"))
    organisations = page.locator("section[aria-labelledby=orgs]")
    expect(organisations.get_by_role("heading", level=3)).to_have_text(ORG)
    expect(organisations).to_contain_text("General member")
    expect(organisations).to_contain_text("Executive Director")
    # They act for the organisation only once they accept the designation.
    organisations.get_by_role("button", name="Accept the designation").click()
    expect(page.locator("main")).to_contain_text(f"You now represent {ORG} at the Centre.")
    expect(organisations.get_by_role("button", name="Accept the designation")).to_have_count(0)
    screenshot(page, "representative-profile")
