"""The browser-test harness: Playwright (sync API) driving Debian's chromium.

Fixtures, for every browser test under tests/e2e/ (all marked `browser` automatically):

- `live_server` (pytest-django): the portal, served over http://localhost:<port>, with
  the test settings (DEBUG off, so Secure cookies: chromium keeps them on localhost,
  which it treats as a secure context; tests/e2e/test_home.py checks it still does).
- `browser`: one chromium for the whole session.
- `browser_locale`: the context's locale, hence its Accept-Language; "fr-FR" unless a
  test parametrizes it: `@pytest.mark.parametrize("browser_locale", ["de-DE"])`.
- `context`: a fresh browser context per test (no cookies carried over), whose
  `base_url` is the live server: `page.goto("/activation/")`.
- `page`: a page of that context.
- `new_page(**context_options)`: a page in another context of its own, for what `page`
  cannot do: `new_page(java_script_enabled=False)`, `new_page(viewport=...)`, two
  visitors in one test.
- `assert_accessible(page)`: runs axe-core on the page as it is now and fails with the
  list of violations (id, impact, help, target nodes). Call it on every page state a
  test reaches (a step of a flow, an open menu, a form with errors).

Every page, from `page` or `new_page`, fails its test if it logs a Content Security
Policy violation or an uncaught JavaScript error.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test.testcases import LiveServerThread
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

from tests.e2e.accessibility import assert_accessible as _assert_accessible
from tests.e2e.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEFAULT_LOCALE,
    DEFAULT_TIMEOUT_MS,
    AssertAccessible,
    NewPage,
    watch,
)
from tests.factories import forget_rate_limits

# Playwright's sync API keeps an asyncio event loop in the test thread; Django then
# refuses ORM calls from that thread (SynchronousOnlyOperation) unless told it is safe,
# which it is here: the loop only waits for the browser, it never runs Django code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


# On SQLite the test database lives in memory, and the live server's threads all share
# the test's one connection: two requests at once (an <audio> element's range requests)
# interleave their transactions on it and break it for every later test. So requests are
# handled one at a time — but each connection still waits for its request in its own
# thread: Chromium opens connections ahead of need (preconnects) and may leave one idle
# for ten seconds, and a server that waited on it alone stalled every page behind it
# (a navigation's timeout, then a flush racing the late request). PostgreSQL gives each
# thread its own connection and needs none of this.
class SerialWSGIServer(ThreadedWSGIServer):
    """Django's threaded live server, handling one request at a time once its first
    bytes have arrived."""

    def __init__(self, address: Any, handler_class: type[Any], *args: Any, **kwargs: Any):
        one_at_a_time = threading.Lock()

        class Handler(handler_class):
            def handle_one_request(self) -> None:
                self.rfile.peek(1)  # the request's first bytes, or the connection's end
                with one_at_a_time:
                    super().handle_one_request()

        super().__init__(address, Handler, *args, **kwargs)


if connection.vendor == "sqlite":
    LiveServerThread.server_class = SerialWSGIServer  # type: ignore[attr-defined]

E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _empty_rate_limits(transactional_db: None) -> None:
    """Redis and the cache table belong to no model: the flush after each browser test
    leaves them full, and the suite sends many codes from one IP."""
    forget_rate_limits()


@pytest.fixture
def browser_locale() -> str:
    return DEFAULT_LOCALE


@pytest.fixture
def problems() -> Iterator[list[str]]:
    """CSP violations and JavaScript errors of the test's pages: any fails the test."""
    found: list[str] = []
    yield found
    assert not found, "\n".join(found)


def open_context(browser: Browser, live_server: LiveServer, **options: Any) -> BrowserContext:
    context = browser.new_context(
        **({"locale": DEFAULT_LOCALE, "base_url": live_server.url} | options)
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context


@pytest.fixture
def context(
    browser: Browser, live_server: LiveServer, browser_locale: str
) -> Iterator[BrowserContext]:
    context = open_context(browser, live_server, locale=browser_locale)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext, problems: list[str]) -> Page:
    page = context.new_page()
    watch(page, problems)
    return page


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer, problems: list[str]) -> Iterator[NewPage]:
    contexts: list[BrowserContext] = []

    def open_page(**context_options: Any) -> Page:
        context = open_context(browser, live_server, **context_options)
        contexts.append(context)
        page = context.new_page()
        watch(page, problems)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def assert_accessible() -> AssertAccessible:
    return _assert_accessible
