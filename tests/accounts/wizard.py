"""Walking the activation wizard with Django's test client, one step at a time."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from django.test import Client
from django.urls import reverse

from esante.notifications.models import Channel, OutboundMessage
from esante.registry.letters import issue_letters
from esante.registry.models import InsuredPerson

LETTER_CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
ONE_TIME_CODE = re.compile(r"\b\d{6}\b")
if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

PASSWORD = "Soleil d'hiver 2024"


def issue_letter(person: InsuredPerson) -> str:
    """Issue a letter to `person`; its code, read from the outbox (demo mode)."""
    issue_letters([person], actor="test")
    return letter_code_of(person)


def letter_code_of(person: InsuredPerson) -> str:
    message = OutboundMessage.objects.filter(person=person, channel=Channel.LETTER).latest("pk")
    found = LETTER_CODE.search(message.body)
    assert found, message.body
    return found.group()


def last_one_time_code(destination: str) -> str:
    message = OutboundMessage.objects.filter(recipient=destination).latest("pk")
    found = ONE_TIME_CODE.search(message.body)
    assert found, message.body
    return found.group()


def start(client: Client) -> Response:
    return client.post(reverse("activation:start"), {"accept_cgu": "on"})


def submit_code(client: Client, matricule: str, code: str) -> Response:
    return client.post(
        reverse("activation:code"),
        {"matricule": matricule, "code": code, "captcha_0": "test", "captcha_1": "PASSED"},
    )


def submit_password(
    client: Client, password: str = PASSWORD, confirm: str | None = None
) -> Response:
    return client.post(
        reverse("activation:password"),
        {"password1": password, "password2": password if confirm is None else confirm},
    )


def submit_contact(
    client: Client, channel: str = "email", value: str = "alice@example.lu"
) -> Response:
    field = "mobile" if channel == "sms" else "email"
    return client.post(reverse("activation:contact"), {"channel": channel, field: value})


def submit_one_time_code(client: Client, code: str) -> Response:
    return client.post(reverse("activation:otp"), {"code": code})


def reach_password_step(client: Client, person: InsuredPerson) -> str:
    code = issue_letter(person)
    start(client)
    response = submit_code(client, person.matricule, code)
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == reverse("activation:password")
    return code


def reach_one_time_code_step(client: Client, person: InsuredPerson, email: str) -> None:
    reach_password_step(client, person)
    assert submit_password(client).status_code == 302
    response = submit_contact(client, "email", email)
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == reverse("activation:otp")


def activate(client: Client, person: InsuredPerson, email: str = "alice@example.lu") -> Response:
    reach_one_time_code_step(client, person, email)
    return submit_one_time_code(client, last_one_time_code(email))


def page_text(response: Response) -> str:
    """The page's HTML with entities decoded and no-break spaces as plain spaces, so that
    tests read like the guide ("d'activation ?")."""
    return html.unescape(response.content.decode()).replace("\xa0", " ").replace("\u202f", " ")


def alert_text(response: Response) -> str:
    """The text of the page's error summary (the role="alert" box), tags removed."""
    page = page_text(response)
    found = re.search(r'<div class="alert alert-error" role="alert"[^>]*>(.*?)</div>', page, re.S)
    assert found, "no error summary on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())
