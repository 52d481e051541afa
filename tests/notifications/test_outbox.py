from __future__ import annotations

import datetime
import importlib
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from esante.notifications import actions
from esante.notifications.actions import (
    MAX_ATTEMPTS,
    REDACTED,
    deliver_pending,
    queue_message,
)
from esante.notifications.middleware import DeliverAfterResponseMiddleware
from esante.notifications.models import Channel, DeliveryState, OutboundMessage
from esante.registry.models import InsuredPerson
from tests.servers import SmsGateway, SmtpServer

pytestmark = pytest.mark.django_db

CaptureOnCommit = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


def queue_code_email(person: InsuredPerson | None = None) -> OutboundMessage:
    return queue_message(
        Channel.EMAIL,
        recipient="alice@example.lu",
        subject="Votre code eSanté",
        body="Votre code à usage unique : 482913",
        person=person,
        secret="482913",
    )


@pytest.mark.django_db(transaction=True)
def test_a_message_rolled_back_with_its_cause_is_neither_kept_nor_sent(
    smtp_server: SmtpServer,
) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_code_email()
        raise RuntimeError("the change that caused the message failed")

    assert OutboundMessage.objects.count() == 0
    assert smtp_server.mails == []


@pytest.mark.django_db(transaction=True)
def test_a_committed_email_is_delivered_over_smtp_and_its_code_masked(
    smtp_server: SmtpServer, alice: InsuredPerson
) -> None:
    with transaction.atomic():
        message = queue_code_email(alice)
        assert smtp_server.mails == []  # nothing leaves before the commit

    assert len(smtp_server.mails) == 1
    mail = smtp_server.mails[0]
    assert mail.recipients == ["alice@example.lu"]
    assert "482913" in mail.text
    message.refresh_from_db()
    assert message.state == DeliveryState.SENT
    assert message.attempts == 1
    assert "482913" not in message.body
    assert REDACTED in message.body


@pytest.mark.django_db(transaction=True)
def test_a_request_delivers_its_messages_once_its_response_has_gone_out(
    smtp_server: SmtpServer,
) -> None:
    """Nobody waits for the carrier, and a page's timing does not tell that a code left."""

    def view(request: HttpRequest) -> HttpResponse:
        with transaction.atomic():
            queue_code_email()
        return HttpResponse("Code envoyé")

    response = DeliverAfterResponseMiddleware(view)(RequestFactory().get("/"))
    assert smtp_server.mails == []  # committed, answered, not yet sent
    response.close()  # what the WSGI server does after the response's last byte
    assert len(smtp_server.mails) == 1
    assert OutboundMessage.objects.get().state == DeliveryState.SENT


def test_demo_mode_keeps_the_code_readable_in_the_outbox(
    smtp_server: SmtpServer,
    settings: Any,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    settings.ESANTE_DEMO = True
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_code_email()
    message.refresh_from_db()
    assert message.state == DeliveryState.SENT
    assert "482913" in message.body


def test_an_unreachable_smtp_server_leaves_the_message_pending_until_it_is_back(
    settings: Any, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    server = SmtpServer()  # its port is reserved but nothing listens yet
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_code_email()

    message.refresh_from_db()
    assert message.state == DeliveryState.PENDING
    assert message.attempts == 1
    assert "SMTP" in message.last_error
    assert message.next_attempt_at is not None
    assert "482913" in message.body  # kept until delivered: nothing is lost

    server.start()
    try:
        assert deliver_pending() == (0, 1)  # not due yet: back-off
        with time_machine.travel(timezone.now() + datetime.timedelta(minutes=1)):
            assert deliver_pending() == (1, 0)
    finally:
        server.stop()
    assert len(server.mails) == 1
    message.refresh_from_db()
    assert message.state == DeliveryState.SENT
    assert "482913" not in message.body


def test_an_sms_is_posted_to_the_gateway_with_its_token(
    sms_gateway: SmsGateway, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_message(
            Channel.SMS, recipient="+352621123456", body="Code eSanté : 123456", secret="123456"
        )

    assert len(sms_gateway.requests) == 1
    request = sms_gateway.requests[0]
    assert request.headers["Authorization"] == "Bearer test-gateway-token"
    assert request.payload["to"] == "+352621123456"
    assert request.payload["text"] == "Code eSanté : 123456"
    message.refresh_from_db()
    assert message.state == DeliveryState.SENT


def test_a_failing_sms_gateway_is_retried_then_the_message_stays_pending(
    sms_gateway: SmsGateway, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    sms_gateway.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_message(Channel.SMS, recipient="+352621123456", body="Code : 123456")

    assert len(sms_gateway.requests) == 3  # one try and two retries
    message.refresh_from_db()
    assert message.state == DeliveryState.PENDING
    assert message.last_error == "SMS gateway: HTTP 500"

    sms_gateway.status = 200
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=1)):
        assert deliver_pending() == (1, 0)
    message.refresh_from_db()
    assert message.state == DeliveryState.SENT


def test_a_message_that_keeps_failing_is_marked_failed(
    sms_gateway: SmsGateway, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    sms_gateway.status = 503
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_message(Channel.SMS, recipient="+352621123456", body="Bonjour")
    later = timezone.now()
    for _ in range(10):
        later += datetime.timedelta(hours=2)
        with time_machine.travel(later):
            deliver_pending()
    message.refresh_from_db()
    assert message.state == DeliveryState.FAILED
    assert message.attempts == 8


class BrokenSmsBackend:
    """A fault of our own around the carrier call (what no backend turns into a
    DeliveryError): the outbox must contain it to this one message."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def send(self, to: str, text: str) -> None:
        raise self.error


def queue_code_sms() -> OutboundMessage:
    return queue_message(
        Channel.SMS, recipient="+352621123456", body="Code eSanté : 731946", secret="731946"
    )


# In the tests below the test's transaction never commits: what is queued is not delivered
# on commit but waits in the outbox for deliver_pending, in the order it was queued.


def test_an_unexpected_error_for_one_message_is_logged_and_backs_off_and_the_next_goes_out(
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    settings: Any,
) -> None:
    settings.ESANTE_DEMO = False
    sms = queue_code_sms()
    email = queue_code_email()
    monkeypatch.setattr(actions, "sms_backend", lambda: BrokenSmsBackend(RuntimeError("bug")))

    now = timezone.now()
    with caplog.at_level(logging.ERROR), time_machine.travel(now, tick=False):
        assert deliver_pending() == (1, 1)

    email.refresh_from_db()
    assert email.state == DeliveryState.SENT and len(smtp_server.mails) == 1
    sms.refresh_from_db()
    assert sms.state == DeliveryState.PENDING
    assert sms.attempts == 1
    assert sms.last_error == "unexpected error: RuntimeError"
    assert sms.next_attempt_at == now + datetime.timedelta(seconds=30)
    # (aiosmtpd's thread may still log at INFO after the block.)
    [record] = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert record.name == "esante.notifications.actions"
    assert str(sms.pk) in record.getMessage()
    assert "731946" not in caplog.text  # the id is logged, never the body


def test_a_message_that_keeps_failing_unexpectedly_is_given_up_with_its_code_masked(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.ESANTE_DEMO = False
    sms = queue_code_sms()
    monkeypatch.setattr(actions, "sms_backend", lambda: BrokenSmsBackend(KeyError("bug")))
    later = timezone.now()
    for _ in range(MAX_ATTEMPTS + 2):
        later += datetime.timedelta(hours=2)
        with time_machine.travel(later):
            deliver_pending()
    sms.refresh_from_db()
    assert sms.state == DeliveryState.FAILED and sms.attempts == MAX_ATTEMPTS
    assert sms.body == f"Code eSanté : {REDACTED}"


def test_the_database_going_away_still_stops_deliver_outbox_in_one_french_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not one message's fault: the run stops, and the next run takes over."""
    queue_code_sms()
    queue_code_sms()
    monkeypatch.setattr(
        actions, "sms_backend", lambda: BrokenSmsBackend(OperationalError("server closed"))
    )
    with pytest.raises(CommandError, match="La base de données est injoignable"):
        call_command("deliver_outbox")


def test_a_gateway_url_that_is_not_a_url_is_a_failed_attempt(
    sms_gateway: SmsGateway, smtp_server: SmtpServer, settings: Any
) -> None:
    settings.ESANTE_SMS_GATEWAY_URL = "sms.example.lu/send"  # no scheme: urllib refuses it
    sms = queue_code_sms()
    queue_code_email()

    assert deliver_pending() == (1, 1)
    sms.refresh_from_db()
    assert sms.state == DeliveryState.PENDING and sms.attempts == 1
    assert sms.last_error.startswith("SMS gateway: ValueError: unknown url type")
    assert len(smtp_server.mails) == 1


def test_an_address_the_smtp_backend_refuses_is_a_failed_attempt(
    smtp_server: SmtpServer,
) -> None:
    refused = queue_message(Channel.EMAIL, recipient='"alice"@', subject="Code", body="Code")
    queue_code_email()

    assert deliver_pending() == (1, 1)
    refused.refresh_from_db()
    assert refused.state == DeliveryState.PENDING and refused.attempts == 1
    assert refused.last_error.startswith("SMTP: ValueError: Invalid address")
    assert [mail.recipients for mail in smtp_server.mails] == [["alice@example.lu"]]


def test_an_smtp_server_that_does_not_speak_tls_is_a_failed_attempt(
    smtp_server: SmtpServer, settings: Any
) -> None:
    settings.EMAIL_USE_SSL = True  # the server speaks plain SMTP: ssl.SSLError
    message = queue_code_email()

    assert deliver_pending() == (0, 1)
    message.refresh_from_db()
    assert message.attempts == 1 and message.last_error.startswith("SMTP: SSLError")


@pytest.mark.parametrize("demo", [False, True])
def test_a_message_given_up_after_its_last_attempt_keeps_its_code_only_in_demo_mode(
    sms_gateway: SmsGateway, settings: Any, demo: bool
) -> None:
    settings.ESANTE_DEMO = demo
    sms_gateway.status = 503
    message = queue_code_sms()
    later = timezone.now()
    for _ in range(MAX_ATTEMPTS + 2):
        later += datetime.timedelta(hours=2)
        with time_machine.travel(later):
            deliver_pending()
    message.refresh_from_db()
    assert message.state == DeliveryState.FAILED
    assert message.redacted_body == f"Code eSanté : {REDACTED}"
    assert message.body == ("Code eSanté : 731946" if demo else message.redacted_body)


@pytest.mark.parametrize("demo", [False, True])
def test_messages_marked_failed_in_bulk_keep_their_codes_only_in_demo_mode(
    settings: Any, demo: bool
) -> None:
    """What a newer code does to the messages still carrying the older one."""
    settings.ESANTE_DEMO = demo
    with_code = queue_code_sms()
    without_code = queue_message(Channel.SMS, recipient="+352621123456", body="Bonjour")
    other = queue_code_email()

    marked = OutboundMessage.objects.filter(pk__in=[with_code.pk, without_code.pk]).mark_failed(
        "superseded by a newer code"
    )

    assert marked == 2
    with_code.refresh_from_db()
    without_code.refresh_from_db()
    other.refresh_from_db()
    for message in (with_code, without_code):
        assert message.state == DeliveryState.FAILED
        assert message.last_error == "superseded by a newer code"
    assert with_code.body == ("Code eSanté : 731946" if demo else f"Code eSanté : {REDACTED}")
    assert without_code.body == "Bonjour"
    assert other.state == DeliveryState.PENDING and "482913" in other.body


@pytest.mark.parametrize("demo", [False, True])
def test_the_migration_masks_the_codes_of_messages_failed_before_it(
    settings: Any, demo: bool
) -> None:
    migration = importlib.import_module(
        "esante.notifications.migrations.0002_mask_codes_of_failed_messages"
    )
    settings.ESANTE_DEMO = demo
    failed, pending = queue_code_sms(), queue_code_sms()
    OutboundMessage.objects.filter(pk=failed.pk).update(state=DeliveryState.FAILED)

    # The migration writes through the schema editor's connection (the database being
    # migrated); the test database's, without a schema editor that SQLite refuses in a
    # transaction.
    migration.mask_codes_of_failed_messages(apps, SimpleNamespace(connection=connection))

    failed.refresh_from_db()
    pending.refresh_from_db()
    assert failed.body == ("Code eSanté : 731946" if demo else f"Code eSanté : {REDACTED}")
    assert pending.body == "Code eSanté : 731946"  # still to be delivered


def test_dev_outbox_is_not_found_outside_demo_mode(client: Client, settings: Any) -> None:
    settings.ESANTE_DEMO = False
    assert client.get("/dev/outbox/").status_code == 404
    assert client.get("/dev/outbox.json").status_code == 404


def test_dev_outbox_lists_messages_newest_first(
    client: Client, settings: Any, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    settings.ESANTE_DEMO = True
    with django_capture_on_commit_callbacks(execute=True):
        queue_message(Channel.SMS, recipient="+352621000001", body="premier")
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=5)):
        with django_capture_on_commit_callbacks(execute=True):
            queue_message(Channel.SMS, recipient="+352621000002", body="second")

        data = client.get("/dev/outbox.json").json()
        page = client.get("/dev/outbox/")

    assert [item["body"] for item in data] == ["second", "premier"]
    assert set(data[0]) == {"channel", "recipient", "subject", "body", "created_at"}
    assert data[0]["channel"] == "sms"
    assert page.status_code == 200
    content = page.content.decode()
    assert content.index("second") < content.index("premier")
