"""The portal on a phone (390 × 844 CSS px), as PNGs beside this file: step 1 of the
activation, the one-time code page, Mon DSP's documents and the Assistants panel's add row.

`make screenshots` runs it. It starts the demo as `make run` does (`esante serve`, demo
mode, on SQLite in a temporary folder: var/ is not touched, ports are free ones), walks it
in Debian's chromium as a person trying the demo would (letter and one-time codes read
from the dev outbox), saves the PNGs and stops the demo. Marc Schmit activates his account
(step 1, the code page), Claire Schmit-Hoffmann activates hers, Marc logs in, opens his
DSP and starts adding Claire as his assistant.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, ViewportSize, expect, sync_playwright

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
PHONE: ViewportSize = {"width": 390, "height": 844}
PASSWORD = "Soleil de Vianden 2026"  # noqa: S105 - the demo accounts' password
MARC = ("Marc Schmit", "marc.schmit@example.lu")
CLAIRE = ("Claire Schmit-Hoffmann", "claire.schmit@example.lu")
# The project's own settings, left out of the demo's environment: a developer's
# DATABASE_URL or REDIS_URL must not receive the demo's data.
PROJECT_SETTINGS = (
    "ESANTE_",
    "DATABASE_",
    "REDIS_",
    "EMAIL_",
    "SECRET_KEY",
    "SECURE_",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DEBUG",
    "HOST",
    "PORT",
    "WEB_CONCURRENCY",
)
READY_WITHIN_SECONDS = 120
# Playwright's default is 30 s; the demo answers in milliseconds, even on a busy machine
# in a second or two.
TIMEOUT_MS = 15_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def demo_server() -> Iterator[str]:
    """`esante serve` in demo mode, in its own process group (gunicorn and the demo
    identity provider are stopped together); yields its address once it answers."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="esante-screenshots-") as var_dir:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(PROJECT_SETTINGS)
        }
        env.update(
            DEBUG="1",
            ESANTE_DEMO="1",
            ESANTE_VAR_DIR=var_dir,
            ESANTE_DEMO_OIDC_PORT=str(free_port()),
            # The captcha accepts "PASSED" (allowed in demo mode only).
            ESANTE_CAPTCHA_TEST_MODE="1",
            LOG_LEVEL="WARNING",
        )
        log_path = Path(var_dir) / "serve.log"
        with log_path.open("wb") as log:
            server = subprocess.Popen(  # noqa: S603 - our own interpreter and command
                [sys.executable, "-m", "esante", "serve", "--port", str(port), "--workers", "1"],
                cwd=PROJECT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                address = f"http://localhost:{port}"
                wait_until_ready(server, address, log_path)
                yield address
            finally:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=30)


def wait_until_ready(server: subprocess.Popen[bytes], address: str, log_path: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"esante serve stopped:\n{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{address}/", timeout=2):  # noqa: S310 - our demo
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    sys.exit(f"esante serve did not answer within {READY_WITHIN_SECONDS} s")


def outbox(page: Page) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = page.request.get("/dev/outbox.json").json()
    return messages


def letter_of(page: Page, name: str) -> tuple[str, str]:
    """The matricule and activation code of `name`'s letter, as printed on it."""
    body = next(
        message["body"]
        for message in outbox(page)
        if message["channel"] == "letter" and message["recipient"].startswith(name + ",")
    )
    matricule = re.search(r"\b\d{13}\b", body)
    code = re.search(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b", body)
    if not (matricule and code):
        sys.exit(f"No matricule or code in the letter of {name}:\n{body}")
    return matricule.group(), code.group()


def one_time_code(page: Page, email: str) -> str:
    body = next(message["body"] for message in outbox(page) if message["recipient"] == email)
    code = re.search(r"\b\d{6}\b", body)
    if not code:
        sys.exit(f"No code in the last message to {email}:\n{body}")
    return code.group()


def shoot(page: Page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.screenshot(path=HERE / name, animations="disabled", caret="hide")
    print(f"docs/screenshots/{name}")


def activate(page: Page, person: tuple[str, str], *, screenshots: bool = False) -> str:
    """The guide's activation, steps 1 to 5, with an e-mail address; the matricule."""
    name, email = person
    matricule, code = letter_of(page, name)
    page.goto("/activation/")
    page.locator("[name=accept_cgu]").check()
    page.get_by_role("button", name="Activer mon compte").click()
    step_1 = page.locator("form:has([name=matricule])")
    expect(step_1).to_be_visible()
    if screenshots:
        shoot(page, "phone-activation-step1.png")
    step_1.locator("[name=matricule]").fill(matricule)
    step_1.locator("[name=code]").fill(code)
    step_1.locator("[name=captcha_1]").fill("PASSED")
    step_1.get_by_role("button", name="Etape suivante").click()
    page.locator("[name=password1]").fill(PASSWORD)
    page.locator("[name=password2]").fill(PASSWORD)
    page.get_by_role("button", name="Etape suivante").click()
    page.locator("[name=channel][value=email]").check()
    page.locator("[name=email]").fill(email)
    page.get_by_role("button", name="Valider").click()
    expect(page.locator("[name=code]")).to_be_visible()
    if screenshots:
        shoot(page, "phone-activation-code.png")
    page.locator("[name=code]").fill(one_time_code(page, email))
    page.get_by_role("button", name="Valider").click()
    page.get_by_role("button", name="Etape suivante").click()
    expect(page.get_by_role("main").get_by_role("link", name="Connexion")).to_be_visible()
    return matricule


def log_in(page: Page, matricule: str, email: str) -> None:
    page.goto("/connexion/patient/")
    page.locator("[name=matricule]").fill(matricule)
    page.locator("[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Etape suivante").click()
    page.locator("[name=code]").fill(one_time_code(page, email))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("link", name="Mon DSP")).to_be_visible()


def open_my_record(page: Page) -> None:
    page.get_by_role("link", name="Mon DSP").click()
    later = page.get_by_label("Je déciderai plus tard")  # the first access asks it
    if later.count():
        later.check()
        page.get_by_role("button", name="Enregistrer ma réponse").click()
    expect(page.locator("#documents tbody tr").first).to_be_visible()


def scroll_to(page: Page, selector: str) -> None:
    """`selector`'s top a little below the top of the screen."""
    page.locator(selector).evaluate(
        "element => window.scrollTo(0, element.getBoundingClientRect().top + scrollY - 12)"
    )


def main() -> None:
    with demo_server() as address, sync_playwright() as playwright:
        expect.set_options(timeout=TIMEOUT_MS)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def phone() -> Page:
            context = browser.new_context(viewport=PHONE, locale="fr-FR", base_url=address)
            context.set_default_timeout(TIMEOUT_MS)
            return context.new_page()

        marc = phone()
        marc_matricule = activate(marc, MARC, screenshots=True)
        claire_matricule = activate(phone(), CLAIRE)

        log_in(marc, marc_matricule, MARC[1])
        open_my_record(marc)
        scroll_to(marc, "#documents")
        shoot(marc, "phone-dsp-documents.png")

        marc.get_by_role("link", name="Ajouter", exact=True).click()
        marc.locator("[name=numero]").fill(claire_matricule)
        marc.get_by_role("button", name="Rechercher").click()
        marc.locator("[name=candidate]").check()
        marc.locator("[name=type]").select_option(index=1)
        marc.locator("[name=role]").fill("Épouse")
        scroll_to(marc, "#assistants")
        shoot(marc, "phone-assistants-add.png")
        browser.close()


if __name__ == "__main__":
    main()
