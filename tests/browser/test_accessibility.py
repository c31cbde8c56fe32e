"""axe-core on the public pages: no "serious" or "critical" violation, in English and French,
and on the sign-up form showing its errors. Each page is also screenshotted into /tmp/shots/
for a person to look at; the screenshots are not part of the repository."""

import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from .conftest import MOBILE, new_context

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
BLOCKING = {"serious", "critical"}
# Axe injects axe-core with page.evaluate(), which goes through the DevTools protocol and is not
# subject to the page's Content-Security-Policy (script-src 'self'), so the contexts keep the real
# CSP (no bypass_csp=True): the pages are audited exactly as a visitor's browser renders them.
AXE = Axe()


def audit(page: Page) -> list[dict]:
    """Every violation axe finds on the page, all impacts."""
    return AXE.run(page).response["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}")
            lines.append(f"       {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"       {summary[:300]}")
    return "\n".join(lines)


def check(page: Page, where: str) -> None:
    violations = audit(page)
    minor = [v for v in violations if v["impact"] not in BLOCKING]
    if minor:
        # Reported, not failed: shown with -rP or when another assertion fails.
        print(f"axe on {where}, minor or moderate:\n{describe(minor)}")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"axe found serious or critical violations on {where}:\n" + describe(
        blocking
    )


def screenshot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(
    ("path", "lang", "shot"),
    [
        ("/", "en", "home-en-desktop"),
        ("/fr/", "fr", "home-fr-desktop"),
        ("/accounts/login/", "en", "login-desktop"),
        ("/accounts/signup/", "en", "signup-desktop"),
    ],
)
def test_page_has_no_serious_violation(page: Page, path: str, lang: str, shot: str) -> None:
    response = page.goto(path)
    assert response is not None and response.ok, response and response.status
    expect(page.locator("html")).to_have_attribute("lang", lang)
    screenshot(page, shot)
    check(page, path)


def test_signup_errors_have_no_serious_violation(page: Page) -> None:
    page.goto("/accounts/signup/")
    page.locator("input[name=email]").fill("someone@example.org")
    page.locator("input[name=password1]").fill("12345")
    page.locator("input[name=password2]").fill("12345")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".invalid-feedback, .is-invalid").first).to_be_visible()
    screenshot(page, "signup-errors-desktop")
    check(page, "/accounts/signup/ with a rejected password")


def test_home_on_a_phone_has_no_serious_violation(browser: Browser, live_server) -> None:
    context = new_context(browser, live_server.url, viewport=MOBILE, is_mobile=True)
    try:
        page = context.new_page()
        page.goto("/")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= MOBILE["width"], f"The home page scrolls sideways at 390 px ({width} px)"
        screenshot(page, "home-en-mobile")
        check(page, "/ at 390 px")

        # The collapsed menu opens (Bootstrap's script loads under the CSP) and passes too.
        toggler = page.locator("button.navbar-toggler")
        expect(toggler).to_have_attribute("aria-expanded", "false")
        toggler.click()
        expect(toggler).to_have_attribute("aria-expanded", "true")
        expect(page.locator("#portal-nav")).to_have_class(re.compile(r"\bshow\b"))
        expect(page.locator("#portal-nav a[href$='/accounts/login/']")).to_be_visible()
        check(page, "/ at 390 px, menu open")
    finally:
        context.close()


# --- The admin: the pages staff and directors use ----------------------------------------------

ADMIN_PAGES = [
    ("index", "/admin/"),
    ("queue", "/admin/applications/application/"),
    ("application", "/admin/applications/application/{answered}/change/"),
    ("history", "/admin/applications/application/{application}/history/"),
    ("action", "/admin/applications/application/{answered}/request-information/"),
    ("ballot", "/admin/board/ballot/{ballot}/change/"),
    ("areas", "/admin/applications/areaofwork/"),
]


@pytest.fixture
def admin_user(migrated_data):
    """A director who also checks applications, so that every panel and button shows, with
    the authenticator the admin requires; and a queue to look at."""
    import datetime

    from django.contrib.auth.models import Group
    from django.utils import timezone

    from applications import services
    from applications.models import ApplicationEvent, NoteKind, Status
    from tests.factories import DirectorFactory, SubmittedApplicationFactory, with_totp

    user = with_totp(
        DirectorFactory(first_name="Claire", last_name="Martin", is_board_president=True)
    )
    user.groups.add(Group.objects.get(name="Staff"))
    for n in range(12):
        SubmittedApplicationFactory(
            org_name=f"Observatoire régional de la tranquillité publique {n}", city="Lyon"
        )
    answered = SubmittedApplicationFactory(org_name="Safer Cities Network")
    later = timezone.now() + datetime.timedelta(minutes=1)
    ApplicationEvent.objects.create(
        application=answered,
        from_status=Status.SUBMITTED,
        to_status=Status.INFO_REQUESTED,
        actor=user,
        note="Please send your statutes.",
        at=later,
    )
    ApplicationEvent.objects.create(
        application=answered,
        from_status=Status.INFO_REQUESTED,
        to_status=Status.SUBMITTED,
        actor=answered.applicant,
        note="Attached, with our last annual report.",
        at=later + datetime.timedelta(minutes=1),
    )
    services.add_staff_note(
        application=answered, by=user, kind=NoteKind.RECOMMENDATION, text="Admit."
    )
    to_vote = SubmittedApplicationFactory(org_name="Centre for Urban Safety")
    ballot = services.send_to_board(
        application=to_vote, by=user, deadline=timezone.now() + datetime.timedelta(days=1)
    )
    return user, {"application": to_vote.pk, "answered": answered.pk, "ballot": ballot.pk}


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
@pytest.mark.parametrize(("name", "path"), ADMIN_PAGES, ids=[name for name, _ in ADMIN_PAGES])
def test_admin_page_has_no_serious_violation(
    browser: Browser, live_server, admin_user, name: str, path: str, lang: str, viewport: str
) -> None:
    from .conftest import DESKTOP, signed_in_context

    user, ids = admin_user
    size = DESKTOP if viewport == "desktop" else MOBILE
    context = signed_in_context(browser, live_server.url, user, viewport=size)
    try:
        page = context.new_page()
        url = ("/fr" if lang == "fr" else "") + path.format(**ids)
        response = page.goto(url)
        assert response is not None and response.ok, (url, response and response.status)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        if name == "queue" and viewport == "desktop":
            # Neither the page nor the table's own scrolling box scrolls sideways.
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= DESKTOP["width"], f"The queue scrolls sideways at 1280 px ({width} px)"
            box = page.evaluate(
                "(() => { const r = document.querySelector('#changelist .results');"
                " return [r.scrollWidth, r.clientWidth]; })()"
            )
            assert box[0] <= box[1], f"The queue's table is cut at 1280 px ({box[0]} > {box[1]} px)"
        screenshot(page, f"admin-{name}-{lang}-{viewport}")
        check(page, f"{url} at {size['width']} px")
    finally:
        context.close()
