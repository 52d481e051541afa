"""Queueing and delivering messages.

A message is written to the outbox in the transaction of the change that causes it, and
handed to its carrier only after that transaction commits: a rolled-back change sends
nothing, and a message whose carrier fails stays pending for `deliver_pending`.

Within a request, the carrier is called once the response has gone out
(notifications/middleware.py): nobody waits for an SMTP server or an SMS gateway,
and how long a page takes does not tell whether a code was sent (the recovery form
answers the same with and without an account).
"""

from __future__ import annotations

import datetime
import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from esante.notifications.backends import DeliveryError, send_email, sms_backend
from esante.notifications.models import Channel, DeliveryState, OutboundMessage

if TYPE_CHECKING:
    # The type only: notifications sit below the registry (OutboundMessage.person names the
    # model by its label), whose letters queue messages.
    from esante.registry.models import InsuredPerson

logger = logging.getLogger(__name__)

REDACTED = "••••••"
MAX_ATTEMPTS = 8


def queue_message(
    channel: Channel,
    *,
    recipient: str,
    subject: str = "",
    body: str,
    person: InsuredPerson | None = None,
    secret: str = "",
) -> OutboundMessage:
    """Record a message and deliver it once the surrounding transaction commits.

    `secret` is the code the body carries: outside demo mode it is masked in the stored
    body as soon as the message is delivered or given up, so no code outlives its delivery.
    """
    message = OutboundMessage.objects.create(
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        redacted_body=body.replace(secret, REDACTED) if secret else "",
        person=person,
    )
    transaction.on_commit(lambda: _deliver_soon(message.pk))
    return message


# The messages to deliver once the current request's response has gone out; None
# outside a request (a command, a shell): they are delivered at once.
after_response: ContextVar[list[int] | None] = ContextVar("outboxafter_response", default=None)


def _deliver_soon(message_id: int) -> None:
    waiting = after_response.get()
    if waiting is None:
        deliver_or_back_off(message_id)
    else:
        waiting.append(message_id)


def deliver_all(message_ids: list[int]) -> None:
    for message_id in message_ids:
        try:
            deliver_or_back_off(message_id)
        except Exception:  # the database's (raised): the response is gone, the outbox retries
            logger.exception("outbox: message %s not delivered after the response", message_id)


def deliver(message_id: int) -> bool:
    """Hand one pending message to its carrier; True when it went out."""
    with transaction.atomic():
        message = (
            OutboundMessage.objects.select_for_update()
            .filter(pk=message_id, state=DeliveryState.PENDING)
            .first()
        )
        if message is None or message.channel == Channel.LETTER:
            return False  # already handled, or delivered by its print batch
        message.attempts += 1
        try:
            if message.channel == Channel.EMAIL:
                send_email(message.recipient, message.subject, message.body)
            else:
                sms_backend().send(message.recipient, message.body)
        except DeliveryError as exc:
            _back_off(message, str(exc))
            return False
        message.state = DeliveryState.SENT
        message.sent_at = timezone.now()
        message.last_error = ""
        message.mask_code()
        message.save(update_fields=["attempts", "state", "sent_at", "last_error", "body"])
        return True


def deliver_or_back_off(message_id: int) -> bool:
    """`deliver`, where an unexpected error is this message's failed attempt, not the
    caller's: it is logged (the message's id, never its body) and the message backs off,
    so that one message cannot stop the delivery of the others.

    The database going away is no message's fault: that error is raised."""
    try:
        return deliver(message_id)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        logger.exception("outbox: unexpected error delivering message %s", message_id)
        _count_failed_attempt(message_id, f"unexpected error: {type(exc).__name__}")
        return False


@transaction.atomic
def _count_failed_attempt(message_id: int, error: str) -> None:
    """The attempt that `deliver` counted went with its rolled-back transaction."""
    message = (
        OutboundMessage.objects.select_for_update()
        .filter(pk=message_id, state=DeliveryState.PENDING)
        .first()
    )
    if message is not None:
        message.attempts += 1
        _back_off(message, error)


def _back_off(message: OutboundMessage, error: str) -> None:
    """Save a failed attempt (already counted): retried after its delay, or given up."""
    # Printable: the error may quote a server's bytes (PostgreSQL refuses NUL in text).
    message.last_error = "".join(c if c.isprintable() else repr(c)[1:-1] for c in error)[:500]
    message.next_attempt_at = timezone.now() + retry_delay(message.attempts)
    if message.attempts >= MAX_ATTEMPTS:
        message.state = DeliveryState.FAILED
        message.mask_code()
    message.save(update_fields=["attempts", "last_error", "next_attempt_at", "state", "body"])


def retry_delay(attempts: int) -> datetime.timedelta:
    """Exponential back-off: 30 s, 1 min, 2 min, … at most one hour."""
    return datetime.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def deliver_pending(now: datetime.datetime | None = None) -> tuple[int, int]:
    """Retry every pending e-mail and SMS that is due; returns (sent, still pending), the
    latter counting the messages whose back-off has not run out yet. A message failing in
    an unexpected way is one failed attempt of its own: the next ones still go out."""
    now = now or timezone.now()
    pending = OutboundMessage.objects.filter(state=DeliveryState.PENDING).exclude(
        channel=Channel.LETTER
    )
    due = pending.filter(next_attempt_at__isnull=True) | pending.filter(next_attempt_at__lte=now)
    sent = 0
    for message_id in due.order_by("created_at").values_list("pk", flat=True):
        sent += deliver_or_back_off(message_id)
    return sent, pending.count()
