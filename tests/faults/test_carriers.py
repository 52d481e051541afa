"""The carriers of the one-time codes fail: the SMTP server is down, the SMS gateway
answers 500 or does not answer at all.

The person sees a clear French page (the step's own page, saying the code could not be
sent, with « Renvoyer le code »); nothing is lost nor half-written (the message waits in
the outbox, the journey stays where it was); and once the carrier is back,
`esante deliver-outbox` delivers what was pending after its back-off, and the code
delivered late still finishes the journey. No manual repair anywhere.

Production settings (not demo mode): the code is read where the person reads it, in the
e-mail or the SMS that reached the real servers of tests/servers.py.
"""

from __future__ import annotations

import datetime
import io
import re
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts.models import Account
from esante.notifications.models import DeliveryState, OutboundMessage
from esante.registry.models import InsuredPerson
from tests.accounts.conftest import activation_settings  # noqa: F401 - autouse here too
from tests.accounts.wizard import (
    PASSWORD,
    page_text,
    reach_password_step,
    submit_contact,
    submit_one_time_code,
    submit_password,
)
from tests.servers import SmsGateway, SmtpServer

pytestmark = pytest.mark.django_db(transaction=True)  # deliveries run after the commit

ONE_TIME_CODE = re.compile(r"\b\d{6}\b")
EMAIL = "alice@example.lu"
MOBILE = "621 123 456"
NOT_SENT = "Le code n'a pas pu être envoyé"
SENT_BY_EMAIL = "Le code a été envoyé à l'adresse *****@example.lu"


def deliver_outbox() -> str:
    output = io.StringIO()
    call_command("deliver_outbox", stdout=output)
    return output.getvalue()


def code_in(text: str) -> str:
    found = ONE_TIME_CODE.search(text)
    assert found, text
    return found.group()


def pending_message(person: InsuredPerson) -> OutboundMessage:
    message = OutboundMessage.objects.exclude(channel="letter").get(person=person)
    assert message.state == DeliveryState.PENDING
    return message


def test_activation_with_the_smtp_server_down_waits_in_the_outbox_then_finishes(
    client: Client, alice: InsuredPerson, settings: Any
) -> None:
    smtp = SmtpServer()  # its port is reserved, nothing listens yet: the server is down
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
    reach_password_step(client, alice)
    settings.ESANTE_DEMO = False  # the letter's code was read in demo mode; now production
    submit_password(client)

    response = submit_contact(client, "email", EMAIL)
    assert response["Location"] == reverse("activation:otp")
    page = client.get(reverse("activation:otp"))
    assert page.status_code == 200
    assert NOT_SENT in page_text(page)
    assert "« Renvoyer le code »" in page_text(page)
    message = pending_message(alice)
    assert message.attempts == 1 and "SMTP" in message.last_error
    assert not Account.objects.filter(person=alice).exists()  # nothing half-made

    smtp.start()
    try:
        assert deliver_outbox() == "0 message(s) remis, 1 toujours en attente.\n"  # back-off
        with time_machine.travel(timezone.now() + datetime.timedelta(seconds=31)):
            assert deliver_outbox() == "1 message(s) remis, 0 toujours en attente.\n"
    finally:
        smtp.stop()
    [mail] = smtp.mails
    assert mail.recipients == [EMAIL]
    message.refresh_from_db()
    assert message.state == DeliveryState.SENT and code_in(mail.text) not in message.body

    later = page_text(client.get(reverse("activation:otp")))
    assert NOT_SENT not in later and SENT_BY_EMAIL in later
    done = submit_one_time_code(client, code_in(mail.text))
    assert done["Location"] == reverse("activation:authenticators")
    assert Account.objects.filter(person=alice).count() == 1


def activate_by_sms(
    client: Client, person: InsuredPerson, gateway: SmsGateway, settings: Any
) -> Account:
    reach_password_step(client, person)
    settings.ESANTE_DEMO = False  # the letter's code was read in demo mode; now production
    submit_password(client)
    submit_contact(client, "sms", MOBILE)
    code = code_in(gateway.requests[-1].payload["text"])
    assert submit_one_time_code(client, code)["Location"] == reverse("activation:authenticators")
    return Account.objects.get(person=person)


def submit_login(client: Client, person: InsuredPerson) -> None:
    response = client.post(
        reverse("patient:login"), {"matricule": person.matricule, "password": PASSWORD}
    )
    assert response["Location"] == reverse("patient:login_code"), page_text(response)


def test_login_with_the_sms_gateway_answering_500_then_back(
    alice: InsuredPerson, sms_gateway: SmsGateway, settings: Any
) -> None:
    activate_by_sms(Client(), alice, sms_gateway, settings)
    OutboundMessage.objects.all().delete()
    sms_gateway.requests.clear()
    sms_gateway.status = 500
    client = Client()

    submit_login(client, alice)
    page = client.get(reverse("patient:login_code"))
    assert page.status_code == 200
    assert NOT_SENT in page_text(page)
    assert len(sms_gateway.requests) == 3  # a refusal is retried at once, twice
    message = pending_message(alice)
    assert message.last_error == "SMS gateway: HTTP 500"
    assert client.get(reverse("patient:services"))["Location"].startswith(
        reverse("patient:login")
    )  # not logged in by a failure

    sms_gateway.status = 200
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=31)):
        assert deliver_outbox() == "1 message(s) remis, 0 toujours en attente.\n"
    code = code_in(sms_gateway.requests[-1].payload["text"])
    assert sms_gateway.requests[-1].payload["to"] == "+352621123456"
    done = client.post(reverse("patient:login_code"), {"code": code})
    assert done["Location"] == reverse("patient:services")
    assert client.get(reverse("patient:services")).status_code == 200


def test_login_with_the_sms_gateway_timing_out_is_not_held_then_resend_works(
    alice: InsuredPerson, sms_gateway: SmsGateway, settings: Any
) -> None:
    activate_by_sms(Client(), alice, sms_gateway, settings)
    OutboundMessage.objects.all().delete()
    sms_gateway.requests.clear()
    settings.ESANTE_SMS_GATEWAY_TIMEOUT = 1
    sms_gateway.delay = 3  # longer than the timeout: the gateway hangs
    client = Client()

    submit_login(client, alice)
    # One try only: the person is not kept waiting for a retry of a hung gateway.
    assert len(sms_gateway.requests) == 1
    page = page_text(client.get(reverse("patient:login_code")))
    assert NOT_SENT in page
    first = pending_message(alice)
    assert first.last_error == "SMS gateway: timeout after 1 s"

    # The gateway answers again; the person does not wait for the outbox: « Renvoyer le
    # code » right away (a failed send may be resent without the usual minute).
    sms_gateway.delay = 0
    resent = client.post(reverse("patient:login_code"), {"resend": "1"})
    assert resent.status_code == 302
    first.refresh_from_db()
    assert first.state == DeliveryState.FAILED  # superseded: its code no longer works
    code = code_in(sms_gateway.requests[-1].payload["text"])
    assert client.post(reverse("patient:login_code"), {"code": code})["Location"] == reverse(
        "patient:services"
    )
    # The hung first SMS is never retried by the outbox, its code is dead.
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5)):
        assert deliver_outbox() == "0 message(s) remis, 0 toujours en attente.\n"
