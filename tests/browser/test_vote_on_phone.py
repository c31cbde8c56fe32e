"""A director votes on a phone: the vote email's link opens the ballot, the question, the tally
and the vote form come before the file, and the page never scrolls sideways (390 px)."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from applications import services as applications
from applications.models import NoteKind
from board.models import Ballot
from core.templatetags.portal_time import when
from tests.board.conftest import application_with_board
from tests.factories import DirectorFactory, StaffFactory, UserFactory, with_totp

from .conftest import DESKTOP, MOBILE
from .test_accessibility import check, screenshot
from .test_application_journey import link_in, messages_to, signed_in_context

pytestmark = pytest.mark.browser

RECOMMENDATION = "Admit: a municipal partner with ten years of audits."


def scrolls_sideways(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def top(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box["y"]


@pytest.mark.parametrize(
    ("language", "vote_label", "record", "recorded", "zone"),
    [
        ("en", "For", "Record my vote", "Your vote is recorded.", "(Montréal time)"),
        ("fr", "Pour", "Enregistrer mon vote", "Votre vote est enregistré.", None),
    ],
)
def test_a_director_votes_from_the_email_on_a_phone(
    browser, live_server, migrated_data, mailoutbox, language, vote_label, record, recorded, zone
) -> None:
    with_totp(DirectorFactory(is_board_president=True))
    director = with_totp(DirectorFactory(language=language))
    for _ in range(5):
        with_totp(DirectorFactory())
    staff = with_totp(StaffFactory())
    application, ballot = application_with_board(applicant=UserFactory(), staff=staff)
    applications.add_staff_note(
        application=application, by=staff, kind=NoteKind.RECOMMENDATION, text=RECOMMENDATION
    )

    # The email says when the vote closes, with its zone, and links to the vote near the top.
    (email,) = messages_to(mailoutbox, director.email)
    with translation.override(language):
        deadline = when(ballot.deadline)
        title = ballot.title
    assert deadline in email.body
    if zone:
        assert zone in email.body
    lines = email.body.splitlines()
    link_line = next(i for i, line in enumerate(lines) if "/admin/board/ballot/" in line)
    assert link_line < 8, email.body
    assert re.fullmatch(r"https?://\S+", lines[link_line].strip()), lines[link_line]

    context = signed_in_context(browser, live_server, director)
    try:
        page = context.new_page()
        page.set_viewport_size(MOBILE)
        page.goto(link_in(email, "/admin/board/ballot/"))

        # The question, then the tally and the vote form, and only then the file.
        question = page.locator("#content h2").first
        expect(question).to_have_text(title)
        expect(page.locator("#deadline")).to_contain_text(deadline)
        expect(page.locator("#recommendation")).to_contain_text(RECOMMENDATION)
        first_to_last = ("#content h2", "#recommendation", "#tally", "#vote-form", "#motion-file")
        order = [top(page, selector) for selector in first_to_last]
        assert order == sorted(order), order
        assert top(page, "#vote-form") < 2 * MOBILE["height"], "the vote form is too far down"
        assert not scrolls_sideways(page), page.evaluate("document.documentElement.scrollWidth")
        screenshot(page, f"vote-on-phone-{language}")
        check(page, f"the ballot page at 390 px ({language})")

        page.locator("#vote-form").get_by_label(vote_label, exact=True).check()
        page.get_by_role("button", name=record).click()
        expect(page.locator("ul.messagelist li.success")).to_contain_text(recorded)
        expect(page.locator("#tally table.board-tally tbody td").first).to_have_text("1")
        assert not scrolls_sideways(page)
        screenshot(page, f"vote-on-phone-{language}-voted")
        page.screenshot(path=f"/tmp/shots/vote-on-phone-{language}-first-screen.png")
        page.set_viewport_size(DESKTOP)
        assert not scrolls_sideways(page)
        screenshot(page, f"vote-on-desktop-{language}-voted")
    finally:
        context.close()

    assert Ballot.objects.get(pk=ballot.pk).votes.get().director == director
