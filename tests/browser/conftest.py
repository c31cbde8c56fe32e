"""Browser fixtures: one headless Debian Chromium per module, a fresh context per test."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import RunPython
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


@pytest.fixture
def migrated_data(transactional_db) -> None:
    """The rows the project's own data migrations make: the Staff and Board groups with their
    permissions, the areas of work, the voting rule.

    A live-server test runs on a database that is emptied after each test, data migrations'
    rows included, so a test that needs them cannot count on running first. Each RunPython
    step of the project's apps (written to run twice safely: get_or_create) runs again here,
    with the migrated models, as `migrate` runs it. Third-party migrations are left alone.
    """
    root = Path(settings.BASE_DIR).resolve()
    ours = {
        config.label
        for config in django_apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(root)
        and "site-packages" not in Path(config.path).parts
    }
    loader = MigrationLoader(connection)
    state_apps = loader.project_state().apps
    done: set[tuple[str, str]] = set()
    with connection.schema_editor() as editor:
        for leaf in sorted(loader.graph.leaf_nodes()):
            for key in loader.graph.forwards_plan(leaf):
                if key in done or key[0] not in ours:
                    continue
                done.add(key)
                for operation in loader.graph.nodes[key].operations:
                    if isinstance(operation, RunPython):
                        operation.code(state_apps, editor)


def signed_in_context(browser: Browser, base_url: str, user, **options) -> BrowserContext:
    """A browser context already signed in as ``user`` (a session made by Django's test client,
    its cookie handed to the browser): for pages behind the sign-in, such as the admin."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context = new_context(browser, base_url, **options)
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])
    return context
