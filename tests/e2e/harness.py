"""What browser tests share besides fixtures: chromium's launch options, types, watchers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from playwright.sync_api import ConsoleMessage, Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEFAULT_LOCALE = "fr-FR"
# Playwright's default is 30 s; a local server answers in milliseconds, so fail sooner.
DEFAULT_TIMEOUT_MS = 10_000

AssertAccessible = Callable[..., None]


class NewPage(Protocol):
    def __call__(self, **context_options: Any) -> Page: ...


def watch(page: Page, problems: list[str]) -> None:
    """Record the page's CSP violations and uncaught JavaScript errors into `problems`."""

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            problems.append(f"CSP violation on {page.url}: {message.text}")

    def on_page_error(error: Exception) -> None:
        problems.append(f"JavaScript error on {page.url}: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
