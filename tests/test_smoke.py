"""Smoke test: `make run` as a user types it — migrate, demo data, gunicorn — then a fetch.
It runs in demo mode with DEBUG off, as `make run` does unless told DEBUG=1.

The server runs in its own process with the production settings module (not
tests.settings), on SQLite in a temporary `ESANTE_VAR_DIR`, exactly as on a fresh clone.
It is started twice on the same directory: the second start must keep what is there.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from esante.demo.persons import PEOPLE

PROJECT_DIR = Path(__file__).resolve().parent.parent
START_TIMEOUT = 120  # seconds: migrations on a cold SQLite file, a slow shared machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@contextmanager
def make_run(var_dir: Path) -> Iterator[tuple[str, Path]]:
    """`make run` on a free port; yields the base URL and the file the server writes to."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        # What the test run sets for itself, not what a user's shell has.
        if key
        not in {
            "DJANGO_SETTINGS_MODULE",
            "DATABASE_URL",
            "DATABASE_OWNER_URL",
            "REDIS_URL",
            "DEBUG",
        }
        and not key.startswith(("ESANTE_", "MAKE", "MFLAGS"))
    }
    env.update(
        PORT=str(port),
        ESANTE_VAR_DIR=str(var_dir),
        WEB_CONCURRENCY="1",
        ESANTE_DEMO_OIDC_PORT=str(free_port()),
        ESANTE_DEMO_TELECONSULTATION_PORT=str(free_port()),
        # As the README offers a newcomer: its start-up output is the fullest.
        ESANTE_CAPTCHA_TEST_MODE="1",
    )
    log_path = var_dir.parent / f"make-run-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"make run exited ({process.returncode}):\n{log_path.read_text()}")
            try:
                status, _ = fetch(base_url + "/")
            except OSError:
                status = 0
            if status == 200:
                break
            if time.monotonic() > deadline:
                pytest.fail(f"no answer after {START_TIMEOUT} s:\n{log_path.read_text()}")
            time.sleep(0.5)
        yield base_url, log_path
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def outbox(base_url: str) -> list[dict[str, Any]]:
    status, body = fetch(base_url + "/dev/outbox.json")
    assert status == 200
    messages: list[dict[str, Any]] = json.loads(body)
    return messages


def test_make_run_serves_the_portal_with_a_letter_per_demo_person(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    living = [person for person in PEOPLE if person.date_of_death is None]

    with make_run(var_dir) as (base_url, log_path):
        status, body = fetch(base_url + "/")
        assert status == 200
        page = body.decode()
        assert "Activez votre compte eSanté" in page
        assert "(+352) 27 12 50 18 33" in page
        # Assets are served by the app itself (whitenoise), with hashed names.
        css_links = [part.split('"')[0] for part in page.split('href="/static/')[1:]]
        assert css_links, "the page links no static asset"
        for link in css_links:
            assert fetch(f"{base_url}/static/{link}")[0] == 200, link

        letters = [message for message in outbox(base_url) if message["channel"] == "letter"]
        assert len(letters) == len(living)
        for person in living:
            assert any(person.last_name in message["recipient"] for message in letters), person
        # The guide's example person, with the matricule it prints.
        assert any("1918090138700" in message["body"] for message in letters)

        started = log_path.read_text()
        assert "1918090138700" in started  # the demo table printed at start-up
        with urllib.request.urlopen(base_url + "/", timeout=10) as response:  # noqa: S310
            assert response.headers["Server"].startswith("gunicorn")
        # The address printed is localhost's (browsers refuse passkeys at an IP address);
        # 127.0.0.1 keeps answering. No library's warning among the project's lines.
        localhost_url = base_url.replace("127.0.0.1", "localhost")
        assert f"Portail : {localhost_url}/" in started
        assert f"Courriers, e-mails et SMS : {localhost_url}/dev/outbox/" in started
        assert fetch(localhost_url + "/")[0] == 200
        assert "Warning" not in started, started
        # Nor a library's log line, nor one line per demo letter, nor gunicorn's own
        # « Listening at: http://127.0.0.1:… » (passkeys are not offered there).
        for noise in ("ERROR", "INFO", "Listening at"):
            assert noise not in started, (noise, started)
        before_requests = started.partition(f"Portail : {localhost_url}/")[0]
        assert "127.0.0.1" not in before_requests, before_requests
        assert "Captcha en mode test : la réponse PASSED est acceptée." in started

        # DEBUG is off (demo mode): the 404 is the portal's page, not Django's debug page
        # listing every route; static files and the icon are served all the same.
        status, body = fetch(base_url + "/cette-page-n-existe-pas/")
        assert status == 404
        assert "Page introuvable" in body.decode() and "URLconf" not in body.decode()
        status, body = fetch(base_url + "/favicon.ico")
        assert status == 200 and body.startswith(b"<svg")

        # The demo's identity provider runs beside the portal, with the demo adults.
        provider_url = re.search(r"LuxTrust \(démo\) : (http://\S+)/", started)
        assert provider_url, started
        status, body = fetch(provider_url.group(1) + "/.well-known/openid-configuration")
        assert status == 200 and b"authorization_endpoint" in body
        status, body = fetch(base_url + "/connexion/")
        assert "LuxTrust (démo)" in body.decode()

        # « Téléconsultation (démo) », the relying party, runs beside it too, registered.
        service_url = re.search(r"Téléconsultation \(démo\) : (http://\S+)/ ", started)
        assert service_url, started
        status, body = fetch(service_url.group(1) + "/")
        assert status == 200 and "Se connecter avec eSanté" in body.decode()
        status, body = fetch(base_url + "/.well-known/openid-configuration")
        assert status == 200 and b'"code_challenge_methods_supported": ["S256"]' in body

        # The FHIR API answers, and « Appli DSP (démo) » is registered for docs/api.md.
        assert f"API FHIR : {localhost_url}/fhir/metadata (l'appli « appli-dsp-demo »" in started
        status, body = fetch(base_url + "/fhir/metadata")
        assert status == 200 and json.loads(body)["fhirVersion"] == "4.0.1"
        status, body = fetch(base_url + "/dev/code-recu/?code=abc&state=xyz")
        assert status == 200 and "-d code=abc" in body.decode()

    # A second `make run` keeps the database, and issues no new letter.
    with make_run(var_dir) as (base_url, _):
        letters_again = [m for m in outbox(base_url) if m["channel"] == "letter"]
        assert [m["body"] for m in letters_again] == [m["body"] for m in letters]
