"""ASVS 5.0 chapter V16 (Security logging and error handling): what the other test
modules do not show already. docs/security.md names the requirement each test proves."""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from esante import observability
from esante.accounts.models import Account
from esante.audit.actions import record_event
from esante.audit.models import AppendOnlyError, AuditEvent, EventType
from esante.notifications.models import OutboundMessage
from tests.accounts.test_login import EMAIL, log_in, submit_credentials
from tests.accounts.wizard import PASSWORD, page_text

pytestmark = pytest.mark.django_db


def _json_line(message: str) -> str:
    record = logging.LogRecord("esante.test", logging.WARNING, __file__, 1, message, None, None)
    record.request_id = "req-abcdef12"
    return observability.JsonFormatter().format(record)


def test_a_json_log_line_is_one_line_in_utc_whatever_the_message() -> None:
    """V16.2.2 (UTC), V16.2.4 (one common format) and V16.4.1 (no log injection): line
    breaks, a forged second entry and control characters stay inside one JSON string."""
    forged = 'ok\n{"level": "INFO", "message": "forged"}\r\x1b[31m'

    line = _json_line(forged)
    entry = json.loads(line)

    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert entry["message"] == forged
    assert entry["time"].endswith("+00:00")
    assert datetime.datetime.fromisoformat(entry["time"]).utcoffset() == datetime.timedelta(0)


def test_logs_go_to_standard_error_only() -> None:
    """V16.2.3: the one log destination of the inventory (docs/security.md, V16.1.1) is
    the process's standard error, collected by the platform; the audit trail is a table."""
    config: dict[str, Any] = settings.LOGGING
    handlers = config["handlers"]

    assert list(handlers) == ["console"]
    assert handlers["console"]["class"] == "logging.StreamHandler"
    assert "stream" not in handlers["console"]  # StreamHandler's default: sys.stderr
    assert config["root"]["handlers"] == ["console"]


def test_authentication_events_say_when_where_who_what_and_keep_no_secret(
    account: Account,
) -> None:
    """V16.2.1 (metadata), V16.2.5 (no secret, destinations masked) and V16.3.1 for the
    password step, the code step and the session."""
    submit_credentials(Client(), account.person.matricule, "wrong password 1")
    wrong_code = Client()
    submit_credentials(wrong_code, account.person.matricule)
    wrong_code.post(reverse("patient:login_code"), {"code": "000000"})
    client = Client()
    log_in(client, account)

    failed = AuditEvent.objects.get(event_type=EventType.LOGIN_FAILED)
    code_failed = AuditEvent.objects.get(event_type=EventType.OTP_FAILED)
    succeeded = AuditEvent.objects.get(event_type=EventType.LOGIN_SUCCEEDED)
    sent = AuditEvent.objects.filter(event_type=EventType.OTP_SENT).latest("pk")

    for event in (failed, code_failed, succeeded, sent):
        assert event.at.utcoffset() == datetime.timedelta(0), event.event_type
        assert event.ip_address == "127.0.0.1", event.event_type
        assert event.person == account.person, event.event_type
        assert event.actor, event.event_type
    assert failed.details == {"failed_logins": 1}
    assert code_failed.details["purpose"] == "login"
    assert succeeded.details["method"] == "password+code"
    assert succeeded.actor == f"person:{account.person_id}"
    assert sent.details["destination"] == "*****@example.lu"
    codes = [
        message.body.split(":")[1].split(".")[0].strip()
        for message in OutboundMessage.objects.filter(subject="Votre code à usage unique eSanté")
    ]
    everything = json.dumps(list(AuditEvent.objects.values("actor", "details")))
    for secret in (PASSWORD, EMAIL, *codes):
        assert secret not in everything


def test_audit_events_cannot_be_changed_or_deleted_through_the_model() -> None:
    """V16.4.2, the application's side: an audit row is written once."""
    event = record_event(EventType.LOGIN_FAILED, actor="anonymous", failed_logins=1)

    event.actor = "someone else"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()

    assert AuditEvent.objects.get(pk=event.pk).actor == "anonymous"


@pytest.mark.urls("tests.portal.error_urls")
def test_an_unexpected_error_is_logged_with_its_traceback_and_the_visitor_sees_none(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """V16.3.4 (unexpected errors logged) and V16.5.1 (a generic message): the traceback
    goes to the log with the request id, the page says only that an error occurred."""
    caplog.set_level(logging.ERROR)

    response = Client(raise_request_exception=False).get(
        "/test-errors/500/", headers={"X-Request-ID": "req-err12345"}
    )

    assert response.status_code == 500
    page = page_text(response)
    assert "Une erreur technique est survenue" in page
    assert "a bug in a view" not in page and "Traceback" not in page
    logged = [record for record in caplog.records if record.name == "django.request"]
    assert logged and logged[0].levelno == logging.ERROR
    assert logged[0].exc_info is not None
    assert "a bug in a view" in str(logged[0].exc_info[1])
    assert response["X-Request-ID"] == "req-err12345"


def test_a_refused_csrf_check_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """V16.3.3, a bypass attempt: a form posted without its CSRF token is refused and the
    refusal is logged (django.security.csrf), with the path."""
    caplog.set_level(logging.WARNING)

    response = Client(enforce_csrf_checks=True).post(
        reverse("patient:login"), {"matricule": "x", "password": "y"}
    )

    assert response.status_code == 403
    logged = [record for record in caplog.records if record.name == "django.security.csrf"]
    assert logged and reverse("patient:login") in logged[0].getMessage()


def test_a_rate_limited_visitor_is_audited_with_the_action(account: Account, settings: Any) -> None:
    """V16.3.3, anti-automation: going over a limit writes security.rate_limited with the
    rule and the path (and answers 429)."""
    from esante import ratelimit

    rule = next(r for r in ratelimit.RATE_LIMITS["login.failed"] if r.scope == "key")
    for _try in range(rule.limit):
        submit_credentials(Client(), account.person.matricule, "wrong password 1", captcha=True)

    response = submit_credentials(Client(), account.person.matricule, captcha=True)

    assert response.status_code == 429
    event = AuditEvent.objects.filter(event_type=EventType.RATE_LIMITED).latest("pk")
    assert event.details == {"action": "login.failed", "path": reverse("patient:login")}
