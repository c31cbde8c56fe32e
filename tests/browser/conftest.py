"""Browser fixtures: one headless Debian Chromium per module, a fresh context per test."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    sync_playwright,
)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def _browsers() -> Iterator[tuple[Playwright, dict[str, Browser]]]:
    """Playwright and the browsers launched for this module, closed when the module ends.

    Playwright's sync API keeps an asyncio event loop running in the test's thread, so Django
    refuses ORM calls from that thread (SynchronousOnlyOperation), including pytest-django's own
    database setup and flush around each test. The tests touch the ORM only between page actions,
    never concurrently with them, so DJANGO_ALLOW_ASYNC_UNSAFE is safe here; it is set only while
    Playwright runs, not for the rest of the suite. The live server runs in another thread.
    """
    launched: dict[str, Browser] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            try:
                yield playwright, launched
            finally:
                for browser in launched.values():
                    browser.close()


@pytest.fixture
def browser(chromium_path: str, _browsers) -> Browser:
    """Debian's Chromium, launched once per module.

    chromium_path (tests/conftest.py) is function-scoped: it skips on a developer's machine
    without Chromium and fails in CI (REQUIRE_SERVICES=1). Requesting it here, per test, keeps
    that behaviour while the launch itself happens only once.
    """
    playwright, launched = _browsers
    if chromium_path not in launched:
        launched[chromium_path] = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
    return launched[chromium_path]


def new_context(browser: Browser, base_url: str, **options) -> BrowserContext:
    options.setdefault("viewport", DESKTOP)
    # The browser asks for English, as a first-time visitor would, whatever the machine's locale.
    options.setdefault("locale", "en-GB")
    context = browser.new_context(base_url=base_url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def context(browser: Browser, live_server) -> Iterator[BrowserContext]:
    context = new_context(browser, live_server.url)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    try:
        yield page
    finally:
        page.close()
