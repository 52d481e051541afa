"""Delivery backends: e-mail through Django's framework, SMS through a pluggable gateway.

Whatever a carrier call raises comes out as a DeliveryError: a failed attempt of that one
message, which the outbox retries with back-off, never an error that stops the outbox.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage


class DeliveryError(Exception):
    """A message could not be handed to its carrier; the outbox keeps it for a retry."""


class SmsBackend(Protocol):
    def send(self, to: str, text: str) -> None: ...


class OutboxSmsBackend:
    """Demo: the message stays in the outbox, readable at /dev/outbox/; nothing leaves."""

    def send(self, to: str, text: str) -> None:
        return None


class HttpSmsBackend:
    """JSON POST to the operator's gateway with a bearer token, a timeout and retries.

    An answer of the gateway that is an error of its own (5xx, a refused connection) is
    retried at once, `retries` times; a timeout is not: the person waiting for the code
    would wait `timeout` seconds more for each retry. The outbox retries later, with
    back-off (esante.notifications.actions.deliver_pending).
    """

    def __init__(self, url: str, token: str, timeout: float, sender: str, retries: int = 2):
        self.url = url
        self.token = token
        self.timeout = timeout
        self.sender = sender
        self.retries = retries

    def send(self, to: str, text: str) -> None:
        try:
            self._post(to, text)
        except DeliveryError:
            raise
        except Exception as exc:  # a bad gateway URL in the settings, …: see the module
            raise DeliveryError(f"SMS gateway: {type(exc).__name__}: {exc}") from exc

    def _post(self, to: str, text: str) -> None:
        payload = json.dumps({"from": self.sender, "to": to, "text": text}).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is the configured gateway
            self.url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
            },
        )
        last_error = ""
        for _attempt in range(1 + self.retries):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    if 200 <= response.status < 300:
                        return
                    last_error = f"HTTP {response.status}"
            except urllib.error.HTTPError as exc:
                last_error = f"HTTP {exc.code}"
                if 400 <= exc.code < 500:
                    break  # the gateway refused this message: retrying will not help
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                reason = getattr(exc, "reason", exc)
                if isinstance(exc, TimeoutError) or isinstance(reason, TimeoutError):
                    last_error = f"timeout after {self.timeout:g} s"
                    break
            except http.client.HTTPException as exc:
                # Something answered, but not in HTTP (a malformed status line: an https
                # endpoint configured as http, a wrong port): the same at once again. The
                # answer's bytes are shown escaped.
                last_error = repr(exc)
                break
        raise DeliveryError(f"SMS gateway: {last_error}")


def sms_backend() -> SmsBackend:
    if settings.ESANTE_SMS_BACKEND == "http":
        return HttpSmsBackend(
            url=settings.ESANTE_SMS_GATEWAY_URL,
            token=settings.ESANTE_SMS_GATEWAY_TOKEN,
            timeout=settings.ESANTE_SMS_GATEWAY_TIMEOUT,
            sender=settings.ESANTE_SMS_SENDER,
        )
    return OutboxSmsBackend()


def send_email(to: str, subject: str, body: str) -> None:
    try:
        EmailMessage(subject=subject, body=body, to=[to]).send(fail_silently=False)
    except Exception as exc:
        # Mostly OSErrors: smtplib.SMTPException, ssl.SSLError, a refused connection; but
        # also the ValueError of an address the backend cannot write (see the module).
        raise DeliveryError(f"SMTP: {type(exc).__name__}: {exc}") from exc
