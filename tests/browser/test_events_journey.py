"""Events in a real browser: a member's representative registers at the member fee and adds a
colleague who does too, a non-member takes the last seat, a fourth person joins the waitlist
and gets the seat the representative frees, with the event in their calendar. Axe checks the
events' pages in English and French, at 1280 and 390 px; screenshots go to /tmp/events-shots/."""

import datetime
import re
import zoneinfo
from pathlib import Path

import pytest
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import Browser, Page, expect

from events.models import Event, EventKind, Registration, RegistrationStatus
from members.models import Contact
from tests.factories import (
    PASSWORD,
    EventFactory,
    MembershipFactory,
    RepresentativeFactory,
    UserFactory,
    with_member_and_public_fees,
)

from .conftest import DESKTOP, MOBILE, new_context, signed_in_context
from .test_accessibility import check
from .test_application_journey import messages_to

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("migrated_data")]

SHOTS = Path("/tmp/events-shots")
ZONE = "Europe/Paris"
MEMBER_FEE = "150.00 CAD"
PUBLIC_FEE = "250.00 CAD"


def seminar(**fields) -> Event:
    """A seminar in Paris a month from now, 09:30 to 17:00 Paris time, with both fees."""
    day = timezone.localdate() + datetime.timedelta(days=30)
    start = datetime.datetime.combine(day, datetime.time(9, 30), tzinfo=zoneinfo.ZoneInfo(ZONE))
    fields = {
        "title": "Safer streets seminar",
        "city": "Paris",
        "country": "FR",
        "venue": "Hôtel de Ville",
        "time_zone": ZONE,
        "starts_at": start,
        "ends_at": start + datetime.timedelta(hours=7, minutes=30),
        **fields,
    }
    return with_member_and_public_fees(EventFactory(**fields))


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/profile/$"))


def open_event(page: Page, event: Event) -> None:
    page.goto("/events/")
    page.get_by_role("link", name=event.title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(event.title)


def registration_card(page: Page, event: Event):
    return page.locator("article.registration-card").filter(
        has=page.get_by_role("heading", name=event.title)
    )


def register(page: Page, event: Event, *, button: str = "Register") -> None:
    """From the event's page: the button, then the form (names filled in from the account)."""
    page.locator("section[aria-labelledby=register-box]").get_by_role("link", name=button).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(button)
    expect(page.get_by_label("First name")).not_to_have_value("")
    page.get_by_label("Position", exact=True).fill("Prevention officer")
    page.locator("form.registration-form").get_by_role("button", name=button).click()
    expect(page).to_have_url(re.compile(r"/events/my/$"))


def test_members_colleague_non_member_and_waitlist_then_a_cancellation_promotes(
    browser: Browser, live_server, outbox
) -> None:
    mailoutbox = outbox  # production's path: outbox rows, delivered after the commit
    event = seminar(capacity=3)
    membership = MembershipFactory(organisation__name="Ville de Lyon")
    representative = RepresentativeFactory(
        organisation=membership.organisation,
        user=UserFactory(email="nadia@lyon.example.org", first_name="Nadia", last_name="Roux"),
    ).user
    # The colleague already has an account with a password; the representative adds them.
    colleague = UserFactory(email="paul@lyon.example.org", first_name="Paul", last_name="Morel")
    outsider = UserFactory(email="ana@elsewhere.example.org", first_name="Ana")
    latecomer = UserFactory(email="li@late.example.org", first_name="Li", last_name="Wei")

    def person(user):
        context = new_context(browser, live_server.url)
        page = context.new_page()
        sign_in(page, user.email)
        return context, page

    # --- The representative: the member fee, then the colleague added -----------------------
    context, page = person(representative)
    try:
        open_event(page, event)
        expect(page.locator(".your-fee")).to_contain_text(f"Your fee: {MEMBER_FEE} (Member fee)")
        expect(page.locator(".your-fee")).to_contain_text("as a member of the Centre")
        expect(page.locator(".seats").first).to_have_text("3 seats left")
        register(page, event)
        expect(page.locator(".alert-success").first).to_contain_text("You are registered")
        card = registration_card(page, event)
        expect(card.locator(".badge")).to_have_text("Registered")
        expect(card).to_contain_text(f"{MEMBER_FEE} (Member fee)")

        page.goto("/members/membership/")
        page.get_by_role("link", name="Contacts (member fee at events)").click()
        expect(page).to_have_url(re.compile(rf"/members/membership/{membership.pk}/contacts/$"))
        expect(page.locator(".no-contacts")).to_be_visible()
        check(page, "the contacts page")
        form = page.locator("section[aria-labelledby=add-contact] form")
        form.get_by_label("First name").fill("Paul")
        form.get_by_label("Last name").fill("Morel")
        form.get_by_label("Email").fill(colleague.email)
        form.get_by_role("button", name="Add and invite").click()
        expect(page.locator(".alert-success").first).to_contain_text("Paul Morel")
        expect(page.locator(".contact-list")).to_contain_text(colleague.email)
        shot(page, "contacts-en-desktop")
    finally:
        context.close()
    assert Contact.objects.current().filter(user=colleague).exists()
    (told,) = messages_to(mailoutbox, colleague.email)

    # --- The colleague: the member fee too ---------------------------------------------------
    context, page = person(colleague)
    try:
        open_event(page, event)
        expect(page.locator(".your-fee")).to_contain_text(f"Your fee: {MEMBER_FEE} (Member fee)")
        register(page, event)
        card = registration_card(page, event)
        expect(card.locator(".badge")).to_have_text("Registered")
        expect(card).to_contain_text(f"{MEMBER_FEE} (Member fee)")
    finally:
        context.close()

    # --- A non-member takes the last seat at the non-member fee ------------------------------
    context, page = person(outsider)
    try:
        open_event(page, event)
        expect(page.locator(".seats").first).to_have_text("1 seat left")
        expect(page.locator(".your-fee")).to_contain_text(
            f"Your fee: {PUBLIC_FEE} (Non-member fee)"
        )
        register(page, event)
        card = registration_card(page, event)
        expect(card.locator(".badge")).to_have_text("Registered")
        expect(card).to_contain_text(f"{PUBLIC_FEE} (Non-member fee)")
    finally:
        context.close()

    # --- The event is full: the fourth person joins the waitlist -----------------------------
    context, page = person(latecomer)
    try:
        open_event(page, event)
        expect(page.locator(".seats").first).to_have_text("Full: waitlist open")
        page.locator("section[aria-labelledby=register-box]").get_by_role(
            "link", name="Join the waitlist"
        ).click()
        expect(page.locator(".alert-info").first).to_contain_text("The event is full")
        check(page, "the registration form of a full event")
        shot(page, "form-waitlist-en-desktop")
        page.go_back()
        register(page, event, button="Join the waitlist")
        expect(page.locator(".alert-info").first).to_contain_text("you are on its waitlist")
        card = registration_card(page, event)
        expect(card.locator(".badge")).to_have_text("On the waitlist")
        expect(card.get_by_role("button", name=re.compile("Leave the waitlist"))).to_be_visible()
    finally:
        context.close()
    # Told they wait, with no calendar entry for a seat they do not have yet.
    assert not messages_to(mailoutbox, latecomer.email)[-1].attachments

    # --- The representative cancels from "My registrations" ----------------------------------
    context, page = person(representative)
    try:
        page.goto("/events/")
        page.get_by_role("link", name="My registrations").click()
        card = registration_card(page, event)
        card.get_by_role("button", name=re.compile("Cancel my registration")).click()
        expect(page.locator(".alert-success").first).to_contain_text("is cancelled")
        expect(registration_card(page, event).locator(".badge")).to_have_text("Cancelled")
    finally:
        context.close()

    # --- The fourth person has the seat, at their own fee, and it is in their calendar --------
    context, page = person(latecomer)
    try:
        page.goto("/events/my/")
        card = registration_card(page, event)
        expect(card.locator(".badge")).to_have_text("Registered")
        expect(card).to_contain_text(f"{PUBLIC_FEE} (Non-member fee)")
        cancel = card.get_by_role("button", name=re.compile("Cancel my registration"))
        expect(cancel).to_be_visible()
    finally:
        context.close()

    statuses = dict(Registration.objects.filter(event=event).values_list("user__email", "status"))
    assert statuses == {
        representative.email: RegistrationStatus.CANCELLED,
        colleague.email: RegistrationStatus.CONFIRMED,
        outsider.email: RegistrationStatus.CONFIRMED,
        latecomer.email: RegistrationStatus.CONFIRMED,
    }
    promoted = [m for m in messages_to(mailoutbox, latecomer.email) if "freed up" in m.body]
    assert len(promoted) == 1, [m.subject for m in messages_to(mailoutbox, latecomer.email)]
    (email,) = promoted
    assert event.title in email.subject, email.subject
    attachments = {name: (content, mimetype) for name, content, mimetype in email.attachments}
    assert set(attachments) == {"event.ics"}, list(attachments)
    content, mimetype = attachments["event.ics"]
    assert mimetype.startswith("text/calendar"), mimetype
    calendar = Calendar.from_ical(content)
    (entry,) = calendar.walk("VEVENT")
    assert str(entry["SUMMARY"]) == event.title
    start = entry["DTSTART"].dt
    assert start == event.starts_at
    assert (start.hour, start.minute) == (9, 30), start  # Paris time, as the event is
    assert entry["DTSTART"].params.get("TZID") == ZONE, entry["DTSTART"].params
    assert str(start.tzinfo) == ZONE, start.tzinfo
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == [ZONE]
    assert "/events/my/" in email.body
    # The colleague's email named the organisation (no access link: they have a password).
    assert "Ville de Lyon" in told.body, told.body
    assert "Choose your password" not in told.body, told.body


# --- Axe and screenshots ------------------------------------------------------------------------


@pytest.fixture
def member_with_registrations():
    """A member's representative registered for one event and waitlisted for a full one,
    looking at a third with seats left; and a webinar to make the list longer."""
    membership = MembershipFactory(
        organisation__name="Observatoire régional de la tranquillité publique"
    )
    user = RepresentativeFactory(
        organisation=membership.organisation,
        user=UserFactory(first_name="Marie-Hélène", last_name="Desrosiers-Lefebvre"),
    ).user
    open_seats = seminar(
        title="Prévention de la violence chez les jeunes : colloque international",
        summary="Trois jours de travaux entre villes, chercheurs et associations. " * 4,
        capacity=120,
    )
    registered = seminar(title="Safer streets seminar", capacity=30)
    full = seminar(
        title="Night-time economy and safety",
        capacity=1,
        city="Montréal",
        country="CA",
        venue="Maison du développement durable",
        time_zone="America/Montreal",
    )
    EventFactory(
        title="Webinar: evaluating prevention",
        kind=EventKind.WEBINAR,
        online=True,
        city="",
        country="",
        venue="",
    )
    from events import services

    services.register(event=registered, user=user, details={"job_title": "Director"})
    services.register(event=full, user=UserFactory(), details={})
    services.register(event=full, user=user, details={})
    return user, open_seats


PAGES = [
    ("list", "/events/"),
    ("event", "/events/{slug}/"),
    ("form", "/events/{slug}/register/"),
    ("my", "/events/my/"),
]


def test_events_pages_have_no_serious_violation_in_english_and_french_on_desktop_and_phone(
    browser: Browser, live_server, member_with_registrations
) -> None:
    user, event = member_with_registrations
    wide: list[str] = []
    for viewport, size in (("desktop", DESKTOP), ("phone", MOBILE)):
        context = signed_in_context(
            browser, live_server.url, user, viewport=size, is_mobile=size is MOBILE
        )
        try:
            page = context.new_page()
            for lang in ("en", "fr"):
                for name, path in PAGES:
                    url = ("/fr" if lang == "fr" else "") + path.format(slug=event.slug)
                    response = page.goto(url)
                    assert response is not None and response.ok, (url, response and response.status)
                    expect(page.locator("html")).to_have_attribute("lang", lang)
                    expect(page).to_have_url(re.compile(re.escape(url) + "$"))
                    shot(page, f"{name}-{lang}-{viewport}")
                    check(page, f"{url} at {size['width']} px")
                    width = page.evaluate("document.documentElement.scrollWidth")
                    if width > size["width"]:
                        wide.append(f"{url} at {size['width']} px is {width} px wide")
        finally:
            context.close()
    assert not wide, "Pages scroll sideways:\n" + "\n".join(wide)
