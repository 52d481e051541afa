from __future__ import annotations

import datetime
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from esante.notifications.actions import (
    REDACTED,
    DeliverAfterResponseMiddleware,
    deliver_pending,
    queue_message,
)
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
