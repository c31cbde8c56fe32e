"""The newsletter in a real browser: a visitor subscribes, confirms from the email and changes
their language; staff compose an edition, preview it in both languages, send themselves a test
and send it; the visitor gets one copy, in French, and unsubscribes in one click from its
List-Unsubscribe header (a mail client's POST, no session), where a GET only shows a button.
Axe checks the subscribe, preferences and archive pages in English and French."""

import email
import email.policy
import re
import urllib.request
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from newsletter import services, tokens
from newsletter.models import (
    Edition,
    EditionStatus,
    Subscriber,
    SubscriberStatus,
)
from tests.factories import (
    EditionFactory,
    StaffFactory,
    SubscriberFactory,
    TopicFactory,
    with_totp,
)

from .conftest import MOBILE, new_context, signed_in_context
from .test_accessibility import check
from .test_application_journey import link_in, messages_to

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("migrated_data")]

VISITOR = "camille@ville.example.org"
SUBJECT_EN = "Safer cities: June news"
SUBJECT_FR = "Villes plus sûres : les nouvelles de juin"
BODY_EN = "Dear readers,\n\n## This month\n\n- **Lyon** opens two mediation points\n"
BODY_FR = "Chers lecteurs,\n\n## Ce mois-ci\n\n- **Lyon** ouvre deux points de médiation\n"


def parsed(message) -> email.message.EmailMessage:
    """The message as the mail server received it (headers and parts)."""
    return email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)


def one_click_target(message) -> str:
    """The HTTPS address of the List-Unsubscribe header, as a path on the live server."""
    headers = parsed(message)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https = [
        part.strip().strip("<>")
        for part in headers["List-Unsubscribe"].split(",")
        if part.strip().startswith("<http")
    ]
    assert len(https) == 1, headers["List-Unsubscribe"]
    return urlsplit(https[0]).path


def mail_client_post(url: str) -> tuple[int, str, list[str]]:
    """What a mail client's one-click does (RFC 8058): a POST, no cookie, no CSRF token."""
    request = urllib.request.Request(  # noqa: S310 - the live server's http URL
        url,
        data=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        cookies = response.headers.get_all("Set-Cookie") or []
        return response.status, response.read().decode(), cookies


def admin_message(page: Page):
    return page.locator("ul.messagelist li.success")


def test_visitor_subscribes_staff_send_an_edition_and_the_visitor_unsubscribes_in_one_click(
    browser: Browser, live_server, outbox
) -> None:
    mailoutbox = outbox  # production's path: outbox rows, delivered after the commit
    TopicFactory(name_en="Urban safety", name_fr="Sécurité urbaine")
    reader = SubscriberFactory(email="reader@example.net", language="en")
    staff = with_totp(StaffFactory(email="editor@cipc-icpc.org"))

    # --- The visitor subscribes and confirms from the email -----------------------------------
    context = new_context(browser, live_server.url)
    try:
        page = context.new_page()
        page.goto("/newsletter/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Subscribe to the newsletter")
        check(page, "the subscribe page")
        page.get_by_label("Email address").fill(VISITOR)
        expect(page.get_by_label("English")).to_be_checked()
        page.get_by_label("Urban safety").check()
        page.locator("form.newsletter-subscribe").get_by_role("button", name="Subscribe").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
        visitor = Subscriber.objects.get(email=VISITOR)
        assert visitor.status == SubscriberStatus.PENDING
        assert not visitor.receives_editions

        (confirmation,) = messages_to(mailoutbox, VISITOR)
        page.goto(link_in(confirmation, "/newsletter/confirm/"))
        # Opening the link confirms nothing (a link scanner would): the button does.
        visitor.refresh_from_db()
        assert visitor.status == SubscriberStatus.PENDING
        page.get_by_role("button", name="Confirm my subscription").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("You are subscribed")
        visitor.refresh_from_db()
        assert visitor.status == SubscriberStatus.SUBSCRIBED

        # --- ...and changes their language --------------------------------------------------
        page.get_by_role("link", name="Change your language or topics").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your newsletter preferences")
        check(page, "the preferences page")
        expect(page.get_by_label("Urban safety")).to_be_checked()
        page.get_by_label("French").check()
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".alert-success")).to_have_text("Your preferences are saved.")
        expect(page.get_by_label("French")).to_be_checked()
        visitor.refresh_from_db()
        assert visitor.language == "fr"
        assert [t.name_en for t in visitor.topics.all()] == ["Urban safety"]
    finally:
        context.close()

    # --- Staff compose, preview, test-send and send ------------------------------------------
    context = signed_in_context(browser, live_server.url, staff)
    try:
        page = context.new_page()
        page.goto("/admin/newsletter/edition/add/")
        page.locator("#id_subject_en").fill(SUBJECT_EN)
        page.locator("#id_body_en").fill(BODY_EN)
        page.locator("#id_subject_fr").fill(SUBJECT_FR)
        page.locator("#id_body_fr").fill(BODY_FR)
        page.locator("input[name=_continue]").click()
        expect(admin_message(page)).to_be_visible()
        edition = Edition.objects.get(subject_en=SUBJECT_EN)
        assert edition.status == EditionStatus.DRAFT
        expect(page.locator(".newsletter-sending")).to_contain_text(
            "2 subscribers would receive it now."
        )

        page.get_by_role("link", name="Preview in English").click()
        preview = page.locator(".newsletter-preview")
        expect(preview.get_by_role("heading", name="This month")).to_be_visible()
        expect(preview.locator("strong")).to_have_text("Lyon")
        page.go_back()
        page.get_by_role("link", name="Preview in French").click()
        expect(page.locator(".newsletter-preview")).to_contain_text(SUBJECT_FR)
        expect(
            page.locator(".newsletter-preview").get_by_role("heading", name="Ce mois-ci")
        ).to_be_visible()
        page.go_back()

        page.get_by_role("button", name="Send me a test (both languages)").click()
        expect(admin_message(page)).to_contain_text("on their way to editor@cipc-icpc.org")
        tests = messages_to(mailoutbox, staff.email)
        assert sorted(m.subject for m in tests) == sorted(
            [f"[Test] [ICPC] {SUBJECT_EN}", f"[Test] [ICPC] {SUBJECT_FR}"]
        )
        # Nobody else received anything from the test.
        assert not messages_to(mailoutbox, VISITOR)[1:]
        assert not messages_to(mailoutbox, reader.email)

        page.get_by_role("button", name="Send now").click()
        expect(admin_message(page)).to_have_text("The edition is being sent.")
    finally:
        context.close()

    # The task ran in-process after the commit (no broker); a worker's later run adds nothing.
    services.send_edition(edition_id=edition.pk, budget=None)
    edition.refresh_from_db()
    assert edition.status == EditionStatus.SENT

    # --- One copy each, in their language ------------------------------------------------------
    (copy,) = [m for m in messages_to(mailoutbox, VISITOR) if m is not confirmation]
    assert copy.subject == f"[ICPC] {SUBJECT_FR}"
    assert "Ce mois-ci" in copy.body and "This month" not in copy.body
    (english,) = messages_to(mailoutbox, reader.email)
    assert english.subject == f"[ICPC] {SUBJECT_EN}"

    # --- The visitor unsubscribes in one click -------------------------------------------------
    target = one_click_target(copy)
    token = tokens.make_token(tokens.MANAGE, pk=visitor.pk, email=visitor.email)
    assert target == f"/fr/newsletter/unsubscribe/{token}/"
    context = new_context(browser, live_server.url)
    try:
        page = context.new_page()
        # Opening the link (a link scanner, or a person) only shows a button.
        response = page.goto(target)
        assert response is not None and response.ok
        form = page.locator("main form[method=post]")
        expect(form.locator("button[type=submit]")).to_be_visible()
        visitor.refresh_from_db()
        assert visitor.status == SubscriberStatus.SUBSCRIBED
    finally:
        context.close()

    status, body, cookies = mail_client_post(live_server.url + target)
    assert status == 200
    assert not [c for c in cookies if c.startswith("sessionid=")]
    visitor.refresh_from_db()
    assert visitor.status == SubscriberStatus.UNSUBSCRIBED
    assert visitor.unsubscribed_at is not None
    assert visitor.status_changes.latest("at").to_status == SubscriberStatus.UNSUBSCRIBED
    assert Subscriber.objects.get(pk=reader.pk).status == SubscriberStatus.SUBSCRIBED

    # --- The archive shows the edition ---------------------------------------------------------
    context = new_context(browser, live_server.url)
    try:
        page = context.new_page()
        page.goto("/newsletter/archive/")
        page.get_by_role("link", name=SUBJECT_EN).click()
        expect(page.get_by_role("heading", name="This month")).to_be_visible()
        page.go_back()
        check(page, "the archive")
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_subscribe_preferences_and_archive_pages_have_no_serious_violation(
    browser: Browser, live_server, language: str
) -> None:
    TopicFactory(name_en="Urban safety", name_fr="Sécurité urbaine")
    subscriber = SubscriberFactory(language=language)
    EditionFactory(
        subject_en=SUBJECT_EN,
        subject_fr=SUBJECT_FR,
        status=EditionStatus.SENT,
        sent_at=timezone.now(),
    )
    services.ARCHIVE_PAGES.bump()
    token = tokens.make_token(tokens.MANAGE, pk=subscriber.pk, email=subscriber.email)
    prefix = "/fr" if language == "fr" else ""
    subject = SUBJECT_FR if language == "fr" else SUBJECT_EN
    for viewport in ({"width": 1280, "height": 900}, MOBILE):
        context = new_context(browser, live_server.url, viewport=viewport)
        try:
            page = context.new_page()
            for path, where in (
                (f"{prefix}/newsletter/", "the subscribe page"),
                (f"{prefix}/newsletter/preferences/{token}/", "the preferences page"),
                (f"{prefix}/newsletter/archive/", "the archive"),
            ):
                response = page.goto(path)
                assert response is not None and response.ok, (path, response and response.status)
                expect(page.locator("html")).to_have_attribute("lang", language)
                check(page, f"{where} ({language}, {viewport['width']} px)")
            expect(page.get_by_role("link", name=re.compile(re.escape(subject)))).to_be_visible()
            # The subscribe form showing its errors.
            page.goto(f"{prefix}/newsletter/")
            page.locator("input[name=email]").fill("not an address")
            page.locator("form.newsletter-subscribe button[type=submit]").click()
            expect(page.locator(".invalid-feedback, .is-invalid").first).to_be_visible()
            check(page, f"the subscribe page with an error ({language})")
        finally:
            context.close()
