"""The lifecycle in the browser: the representative answers the renewal notice from the email,
resigns at the end of the period and takes it back; staff put an honorary appointment to the
Board from the admin and the directors carry it. Axe checks the Membership page and the report."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from members.models import Membership, MembershipKind, RenewalAnswer
from members.services import renewal
from tests.factories import (
    DirectorFactory,
    MembershipFactory,
    OrganisationFactory,
    RepresentativeFactory,
    StaffFactory,
    UserFactory,
    with_totp,
)

from .conftest import MOBILE, new_context, signed_in_context
from .test_accessibility import check, screenshot
from .test_application_journey import link_in, messages_to

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("migrated_data")]


def member_renewing_in(days: int):
    today = timezone.localdate()
    start = today + datetime.timedelta(days=days) - datetime.timedelta(days=365)
    membership = MembershipFactory(
        started_on=start - datetime.timedelta(days=365),
        period_start=start,
        period_end=today + datetime.timedelta(days=days - 1),
    )
    representative = RepresentativeFactory(
        organisation=membership.organisation, user=UserFactory(first_name="Nadia")
    )
    return membership, representative.user


def test_the_representative_answers_the_notice_then_resigns_and_takes_it_back(
    browser: Browser, live_server, outbox
) -> None:
    mailoutbox = outbox  # production's path: outbox rows, delivered after the commit
    staff = StaffFactory()
    membership, person = member_renewing_in(20)
    renewal.send_renewal_notices(on=timezone.localdate())
    (notice_email,) = messages_to(mailoutbox, person.email)

    # From the email, without signing in: one button confirms.
    anonymous = new_context(browser, live_server.url)
    try:
        page = anonymous.new_page()
        page.goto(link_in(notice_email, "/members/renewal/"))
        expect(page.locator("h1")).to_be_visible()
        check(page, "the renewal notice page")
        page.get_by_role("button", name="Confirm", exact=True).click()
        expect(page.locator(".alert-success, .messages .success").first).to_be_visible()
    finally:
        anonymous.close()
    notice = membership.renewal_notices.get()
    assert notice.answer == RenewalAnswer.CONFIRMED

    # Signed in, on a phone: the Membership page, then the resignation and its withdrawal.
    context = signed_in_context(browser, live_server.url, person, viewport=MOBILE)
    try:
        page = context.new_page()
        page.goto("/members/membership/")
        expect(page.locator("h1")).to_have_text("Membership")
        check(page, "the Membership page at 390 px")
        screenshot(page, "membership-journey-phone")
        page.get_by_role("link", name="Resign…").click()
        page.get_by_label("At the end of the current period").check()
        page.get_by_role("button", name="Resign", exact=True).click()
        take_back = page.get_by_role("button", name="Take back the resignation")
        expect(take_back).to_be_visible()
        membership.refresh_from_db()
        assert membership.resigns_at_period_end
        take_back.click()
        expect(page.get_by_role("link", name="Resign…")).to_be_visible()
    finally:
        context.close()
    membership.refresh_from_db()
    assert membership.is_active and not membership.resigns_at_period_end
    # The staff were told of the resignation, then that it was taken back.
    assert len(messages_to(mailoutbox, staff.email)) >= 2


def test_staff_put_an_honorary_appointment_to_the_board_and_the_directors_carry_it(
    browser: Browser, live_server, mailoutbox
) -> None:
    president = with_totp(DirectorFactory(is_board_president=True))
    directors = [president, *(with_totp(DirectorFactory()) for _ in range(4))]
    staff = with_totp(StaffFactory())
    organisation = OrganisationFactory(name="Fondation pour la paix urbaine")

    context = signed_in_context(browser, live_server.url, staff)
    try:
        page = context.new_page()
        page.goto("/admin/members/membership/propose-honorary/")
        page.get_by_label("An organisation already known to the portal").check()
        page.locator("select[name=organisation]").evaluate(
            "(select, pk) => { select.add(new Option('x', pk, true, true)); }", str(organisation.pk)
        )
        page.get_by_label("Why the Board is asked").fill("Thirty years of work on urban violence.")
        # The deadline field is the browser's date-time picker; it may come filled in.
        deadline = timezone.localtime() + datetime.timedelta(days=10)
        page.locator("input[name=deadline]").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="Open the Board’s vote").click()
        expect(page.locator("ul.messagelist li.success")).to_be_visible()
        check(page, "the admin after opening the honorary vote")
        page.goto("/admin/members/membership/report/")
        check(page, "the renewal and retention report")
        screenshot(page, "membership-report")
    finally:
        context.close()

    (vote_email,) = messages_to(mailoutbox, directors[1].email)
    # Five sitting directors, a quorum of three: three votes for carry it.
    for director in directors[1:4]:
        director_context = signed_in_context(browser, live_server.url, director, viewport=MOBILE)
        try:
            page = director_context.new_page()
            page.goto(link_in(vote_email, "/admin/board/ballot/"))
            page.locator("#vote-form").get_by_label("For", exact=True).check()
            page.get_by_role("button", name="Record my vote").click()
            expect(page.locator("ul.messagelist li.success")).to_be_visible()
        finally:
            director_context.close()

    membership = Membership.objects.get(organisation=organisation)
    assert membership.kind == MembershipKind.HONORARY
    assert membership.is_active
