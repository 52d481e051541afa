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
import logging
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts.models import Account
from esante.notifications.actions import REDACTED, queue_message
from esante.notifications.models import Channel, DeliveryState, OutboundMessage
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
    output, errors = io.StringIO(), io.StringIO()
    call_command("deliver_outbox", stdout=output, stderr=errors)
    assert errors.getvalue() == ""
    return output.getvalue()


def code_in(text: str) -> str:
    found = ONE_TIME_CODE.search(text)
    assert found, text
    return found.group()


def pending_message(person: InsuredPerson) -> OutboundMessage:
    message = OutboundMessage.objects.exclude(channel="letter").get(person=person)
    assert message.state == DeliveryState.PENDING
    return message


def test_in_demo_mode_without_an_smtp_server_an_e_mail_code_is_sent(
    client: Client, alice: InsuredPerson, settings: Any
) -> None:
    """`make run` has no SMTP server: demo mode records e-mails in the outbox and hands them
    to Django's dummy backend (esante.settings), so the code page says the code was sent
    and the outbox marks it so. A real failure is still told: the test below."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    reach_password_step(client, alice)
    submit_password(client)

    submit_contact(client, "email", EMAIL)
    page = page_text(client.get(reverse("activation:otp")))

    assert NOT_SENT not in page and SENT_BY_EMAIL in page
    message = OutboundMessage.objects.exclude(channel="letter").get(person=alice)
    assert message.state == DeliveryState.SENT and not message.last_error
    response = submit_one_time_code(client, code_in(message.body))
    assert response["Location"] == reverse("activation:authenticators")


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
        assert deliver_outbox() == "0 message remis, 1 toujours en attente.\n"  # back-off
        with time_machine.travel(timezone.now() + datetime.timedelta(seconds=31)):
            assert deliver_outbox() == "1 message remis, 0 toujours en attente.\n"
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
        assert deliver_outbox() == "1 message remis, 0 toujours en attente.\n"
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
    assert code_in(sms_gateway.requests[0].payload["text"]) not in first.body  # masked
    code = code_in(sms_gateway.requests[-1].payload["text"])
    assert client.post(reverse("patient:login_code"), {"code": code})["Location"] == reverse(
        "patient:services"
    )
    # The hung first SMS is never retried by the outbox, its code is dead.
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5)):
        assert deliver_outbox() == "0 message remis, 0 toujours en attente.\n"


class NotHttpGateway:
    """A gateway URL where something answers, but not in HTTP: the first bytes of a TLS
    alert, as from an https-only endpoint configured as http. Counts the requests."""

    ANSWER = b"\x15\x03\x01\x00\x02\x02\x46"

    def __init__(self) -> None:
        self.requests = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                gateway.requests += 1
                self.wfile.write(gateway.ANSWER)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def not_http_gateway(sms_gateway: SmsGateway, settings: Any) -> Iterator[NotHttpGateway]:
    """The HTTP SMS backend pointed at a NotHttpGateway (the real one stays at hand)."""
    gateway = NotHttpGateway()
    settings.ESANTE_SMS_GATEWAY_URL = gateway.url
    yield gateway
    gateway.stop()


# The test's transaction is never committed, so nothing is delivered on commit: the
# messages wait in the outbox, as when an app server stopped before handing them over.
@pytest.mark.django_db
def test_an_sms_gateway_answering_garbage_holds_up_neither_its_sms_nor_the_next_messages(
    not_http_gateway: NotHttpGateway,
    sms_gateway: SmsGateway,
    smtp_server: SmtpServer,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.ESANTE_DEMO = False
    sms = queue_message(
        Channel.SMS, recipient="+352621123456", body="Code eSanté : 482913", secret="482913"
    )
    email = queue_message(
        Channel.EMAIL, recipient=EMAIL, subject="Code", body="Code : 175604", secret="175604"
    )

    now = timezone.now()
    with caplog.at_level(logging.ERROR), time_machine.travel(now, tick=False):
        assert deliver_outbox() == "1 message remis, 1 toujours en attente.\n"
    # An ordinary failed attempt, not a crash (aiosmtpd's thread may still log at INFO).
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []
    [mail] = smtp_server.mails  # the e-mail queued after the SMS went out
    assert mail.recipients == [EMAIL]
    email.refresh_from_db()
    assert email.state == DeliveryState.SENT
    sms.refresh_from_db()
    assert sms.state == DeliveryState.PENDING and sms.attempts == 1
    assert sms.last_error == "SMS gateway: BadStatusLine('\\x15\\x03\\x01\\x00\\x02\\x02F')"
    assert sms.next_attempt_at == now + datetime.timedelta(seconds=30)
    assert not_http_gateway.requests == 1  # the same garbage would come back: no retry now

    with time_machine.travel(now + datetime.timedelta(seconds=31)):
        assert deliver_outbox() == "0 message remis, 1 toujours en attente.\n"
    sms.refresh_from_db()
    assert sms.attempts == 2 and not_http_gateway.requests == 2  # retried after its back-off

    settings.ESANTE_SMS_GATEWAY_URL = sms_gateway.url  # the configuration is corrected
    with time_machine.travel(now + datetime.timedelta(minutes=2)):
        assert deliver_outbox() == "1 message remis, 0 toujours en attente.\n"
    assert sms_gateway.requests[-1].payload["text"] == "Code eSanté : 482913"
    sms.refresh_from_db()
    assert sms.state == DeliveryState.SENT and sms.body == f"Code eSanté : {REDACTED}"
