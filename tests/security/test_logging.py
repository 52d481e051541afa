"""ASVS 5.0 chapter V16 (Security logging and error handling): what the other test
modules do not show already. docs/security.md names the requirement each test proves."""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from esante import observability, ratelimit
from esante.accounts import patient_sessions
from esante.accounts.models import Account, Passkey
from esante.audit.actions import record_event
from esante.audit.models import AppendOnlyError, AuditEvent, EventType
from esante.audit.security_log import AUDITED_REFUSALS
from esante.helpdesk.models import StaffPasskey
from esante.keyed_hash import keyed_hash
from esante.notifications.models import OutboundMessage
from esante.records.models import Assistant, CareRecord
from esante.registry import matricule
from esante.registry.models import InsuredPerson
from tests.accounts.softauthn import SoftAuthenticator
from tests.accounts.test_login import EMAIL, log_in, submit_credentials
from tests.accounts.test_oidc import START, at_provider
from tests.accounts.test_passkeys import passkey_login, post_json, register
from tests.accounts.wizard import (
    PASSWORD,
    alert_text,
    issue_letter,
    page_text,
    reach_password_step,
    start,
    submit_password,
)
from tests.factories import years_ago
from tests.records.conftest import logged_in
from tests.records.test_assistants import search
from tests.servers import OidcProvider

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
    assert failed.details == {"method": "password", "reason": "wrong_password", "failed_logins": 1}
    assert code_failed.details["purpose"] == "login"
    assert succeeded.details["method"] == "password+code:email"
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
    action, the rule's scope and the path (and answers 429)."""
    from esante import ratelimit

    rule = next(r for r in ratelimit.RATE_LIMITS["login.failed"] if r.scope == "key")
    for _try in range(rule.limit):
        submit_credentials(Client(), account.person.matricule, "wrong password 1", captcha=True)

    response = submit_credentials(Client(), account.person.matricule, captcha=True)

    assert response.status_code == 429
    event = AuditEvent.objects.filter(event_type=EventType.RATE_LIMITED).latest("pk")
    assert event.details == {
        "action": "login.failed",
        "scope": "key",  # the rule that refused: per matricule
        "path": reverse("patient:login"),
    }


def security_lines(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, Any]]:
    """The fields of each `esante.security` line of `event` (its message is the event's
    name, then a JSON object)."""
    found = []
    for record in caplog.records:
        if record.name == "esante.security":
            name, _space, fields = record.getMessage().partition(" ")
            if name == event:
                assert record.levelno == logging.WARNING
                found.append(json.loads(fields))
    return found


# V16.3.1: every authentication, successful or not, with its type.


def test_every_refused_password_login_is_audited_without_telling_who_exists(
    account: Account, bob: InsuredPerson
) -> None:
    """V16.3.1 for the password step: a matricule unknown to the registry, one with a
    letter but no account, a wrong password, the right password of a locked account —
    four answers the visitor cannot tell apart, four `patient_sessions.failed` rows with their
    reason. The two without an account are the same row but for a keyed hash of the
    matricule: the log neither keeps a matricule nor says which ones exist."""
    issue_letter(bob)
    unknown = matricule.make(years_ago(40, days=17), 977)
    assert not InsuredPerson.objects.filter(matricule=unknown).exists()
    tries = [(unknown, PASSWORD), (bob.matricule, PASSWORD)]
    tries.append((account.person.matricule, "wrong password 1"))
    answers = [submit_credentials(Client(), *each, captcha=True) for each in tries]
    Account.objects.filter(pk=account.pk).update(
        locked_until=timezone.now() + datetime.timedelta(minutes=5)
    )
    answers.append(submit_credentials(Client(), account.person.matricule, captcha=True))

    assert {answer.status_code for answer in answers} == {400}
    assert len({alert_text(answer) for answer in answers}) == 1
    failed = list(AuditEvent.objects.filter(event_type=EventType.LOGIN_FAILED).order_by("pk"))
    assert [event.details["reason"] for event in failed] == [
        "no_account",
        "no_account",
        "wrong_password",
        "locked",
    ]
    for event in failed:
        assert (event.actor, event.ip_address) == ("anonymous", "127.0.0.1")
        assert event.details["method"] == "password"
    unknown_row, without_account_row = failed[0], failed[1]
    assert unknown_row.person is None and without_account_row.person is None
    assert unknown_row.details.keys() == without_account_row.details.keys()
    assert unknown_row.details["matricule_hash"] == keyed_hash(
        patient_sessions.MATRICULE_HASH_KIND, unknown
    )
    assert without_account_row.details["matricule_hash"] == keyed_hash(
        patient_sessions.MATRICULE_HASH_KIND, bob.matricule
    )
    assert failed[2].person == failed[3].person == account.person
    rows = json.dumps([event.details for event in failed])
    for number in (unknown, bob.matricule, account.person.matricule, PASSWORD):
        assert number not in rows


def test_a_password_typed_again_wrong_inside_a_session_is_audited(account: Account) -> None:
    """V16.3.1 for re-authentication (Mon compte asks the password again before a
    sensitive change): a wrong one is a `patient_sessions.failed` row of the logged-in person."""
    client = Client()
    log_in(client, account)

    client.post(
        reverse("patient:account"), {"confirm_password": "sessions", "sessions-current": "faux"}
    )

    event = AuditEvent.objects.filter(event_type=EventType.LOGIN_FAILED).get()
    assert event.actor == f"person:{account.person_id}" and event.person == account.person
    assert event.details == {
        "method": "password",
        "reason": "wrong_password",
        "step": "reauthentication",
    }


def test_a_passkey_that_opens_no_account_is_audited(account: Account) -> None:
    """V16.3.1 for passkeys: a key unknown here (deleted, or never registered) and a
    login without its challenge are `patient_sessions.failed` rows (a known key that fails the
    checks was already `authenticator.passkey_refused`)."""
    client = Client()
    log_in(client, account)
    authenticator = SoftAuthenticator()
    assert register(client, authenticator).status_code == 200
    Passkey.objects.all().delete()

    unknown = passkey_login(Client(), authenticator)
    no_challenge = post_json(Client(), "patient:passkey_login", {"credential": {"id": "x"}})

    assert unknown.status_code == no_challenge.status_code == 400
    failed = AuditEvent.objects.filter(event_type=EventType.LOGIN_FAILED).order_by("pk")
    assert [(event.details["method"], event.details["reason"]) for event in failed] == [
        ("passkey", "unknown_credential"),
        ("passkey", "no_challenge"),
    ]
    assert all(event.person is None and event.ip_address == "127.0.0.1" for event in failed)


def test_a_staff_passkey_that_opens_nothing_is_audited(agent_client: Client, agent: Any) -> None:
    """V16.3.1 for staff passkeys: a deleted key is a `staff.login_failed` row."""
    key = SoftAuthenticator()
    options = post_json(agent_client, "helpdesk:passkey_register_options").json()
    post_json(agent_client, "helpdesk:passkey_register", {"credential": key.create(options)})
    StaffPasskey.objects.all().delete()
    client = Client()
    challenge = post_json(client, "helpdesk:passkey_login_options").json()

    response = post_json(client, "helpdesk:passkey_login", {"credential": key.get(challenge)})

    assert response.status_code == 400
    event = AuditEvent.objects.get(event_type=EventType.STAFF_LOGIN_FAILED)
    assert event.actor == "anonymous" and event.ip_address == "127.0.0.1"
    assert event.details == {"step": "passkey", "reason": "unknown_credential"}


def test_refused_provider_logins_are_audited_with_their_reason(
    oidc_provider: OidcProvider,
) -> None:
    """V16.3.1 for identity providers: a subject linked to no account (kept only as a
    keyed hash), a login cancelled at the provider, an answer that does not verify."""
    oidc_provider.add_user("nobody-here", matricule="19800101123")
    at_provider(Client(), oidc_provider, "login", "nobody-here")
    at_provider(Client(), oidc_provider, "login", None, deny=True)
    forger = Client()
    response = forger.post(START, {"but": "login"})
    back = oidc_provider.authorize(response["Location"], "nobody-here")
    forger.get(back.replace("state=", "state=x"))

    failed = AuditEvent.objects.filter(event_type=EventType.LOGIN_FAILED).order_by("pk")
    reasons = [event.details["reason"] for event in failed]
    assert reasons[:2] == ["unknown_subject", "cancelled"]
    assert reasons[2].startswith("oauth:")
    for event in failed:
        assert event.details["method"] == "oidc:luxtrust"
        assert event.person is None and event.ip_address == "127.0.0.1"
    assert failed[0].details["subject_hash"] == keyed_hash("oidc-subject", "luxtrust:nobody-here")
    assert "nobody-here" not in json.dumps([event.details for event in failed])


# V16.3.4: security control failures, backend TLS included.


def test_a_provider_failing_tls_is_logged_with_the_error(
    settings: Any, oidc_process: OidcProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """V16.3.4: the provider answers plain HTTP where TLS is expected — the handshake
    fails. The person reads the usual message; the log says which provider, what for and
    the TLS error; the audit log has the failed patient_sessions."""
    caplog.set_level(logging.WARNING, logger="esante.security")
    https = oidc_process.url.replace("http://", "https://")
    settings.ESANTE_OIDC_PROVIDERS = [oidc_process.provider_setting(issuer=https)]
    client = Client()

    response = client.post(START, {"but": "login"})

    assert response["Location"] == reverse("portal:login_choice")
    assert "LuxTrust ne répond pas pour le moment." in page_text(client.get(response["Location"]))
    [line] = security_lines(caplog, "oidc.provider_failed")
    assert line["provider"] == "luxtrust" and line["purpose"] == "login"
    assert line["reason"] == "unreachable" and line["ip"] == "127.0.0.1"
    assert line["error"].startswith("SSLError: ")
    event = AuditEvent.objects.get(event_type=EventType.LOGIN_FAILED)
    assert event.details["reason"] == "unreachable"


def test_an_answer_of_the_provider_that_does_not_verify_is_logged(
    oidc_provider: OidcProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """V16.3.4: a callback whose state does not match (the token exchange refused by our
    checks) is a line with the reason; a callback nobody asked for is one too (16.3.3)."""
    caplog.set_level(logging.WARNING, logger="esante.security")
    client = Client()
    response = client.post(START, {"but": "login"})
    oidc_provider.add_user("forger", matricule="19800101123")
    back = oidc_provider.authorize(response["Location"], "forger")

    client.get(back.replace("state=", "state=x"))
    Client().get(reverse("patient:oidc_callback", args=["luxtrust"]) + "?code=x&state=y")

    [line] = security_lines(caplog, "oidc.provider_failed")
    assert line["reason"].startswith("oauth:") and line["error"]
    assert "code=" not in line["error"]
    [unexpected] = security_lines(caplog, "oidc.unexpected_callback")
    assert unexpected["provider"] == "luxtrust"


# V16.3.2: refused authorizations.


def test_a_record_refused_to_an_outsider_is_audited_and_logged(
    alice: InsuredPerson, charlie: InsuredPerson, caplog: pytest.LogCaptureFixture
) -> None:
    """V16.3.2: charlie gets the 404 of a record that does not exist — for alice's record,
    and for an id that is nobody's; each refusal is a `security.access_denied` row (who,
    where, which record, why) and a log line."""
    caplog.set_level(logging.WARNING, logger="esante.security")
    logged_in(alice, EMAIL)
    record = CareRecord.objects.get(person=alice)
    outsider = logged_in(charlie, "charlie@example.lu", declare=False)
    nobodys = "00000000-0000-4000-8000-000000000000"

    refused = outsider.get(reverse("records:record", args=[record.public_id]))
    missing = outsider.get(reverse("records:journal", args=[nobodys]))

    assert refused.status_code == missing.status_code == 404
    denied = AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).order_by("pk")
    assert [(event.details["reason"], event.details["record"]) for event in denied] == [
        ("not_holder_nor_assistant", str(record.public_id)),
        ("unknown_record", nobodys),
    ]
    for event in denied:
        assert (event.actor, event.person, event.ip_address) == (
            f"person:{charlie.pk}",
            charlie,
            "127.0.0.1",
        )
    assert denied[0].details["path"] == reverse("records:record", args=[record.public_id])
    lines = security_lines(caplog, "access.denied")
    assert [line["reason"] for line in lines] == ["not_holder_nor_assistant", "unknown_record"]
    assert all(line["actor"] == f"person:{charlie.pk}" for line in lines)


def test_an_assistant_refused_a_holder_only_action_is_audited(
    alice: InsuredPerson, charlie: InsuredPerson
) -> None:
    """V16.3.2: closing a record is the holder's own; anyone else's try is refused and
    audited (here an outsider: the record is not even opened)."""
    logged_in(alice, EMAIL)
    record = CareRecord.objects.get(person=alice)
    outsider = logged_in(charlie, "charlie@example.lu", declare=False)

    response = outsider.post(reverse("records:close", args=[record.public_id]), {"confirm": "on"})

    assert response.status_code == 404
    assert CareRecord.objects.get(pk=record.pk).closed_at is None
    assert AuditEvent.objects.filter(
        event_type=EventType.ACCESS_DENIED, actor=f"person:{charlie.pk}"
    ).exists()


def test_a_scan_of_records_cannot_flood_the_audit_log(
    charlie: InsuredPerson, caplog: pytest.LogCaptureFixture
) -> None:
    """V16.3.2: the audit rows of refusals are capped per visitor (RATE_LIMITS); past the
    cap, each refusal is still a log line, and the visitor still gets a 404."""
    caplog.set_level(logging.WARNING, logger="esante.security")
    outsider = logged_in(charlie, "charlie@example.lu", declare=False)
    rule = next(r for r in ratelimit.RATE_LIMITS[AUDITED_REFUSALS] if r.scope == "key")
    elsewhere = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7")
    for _hit in range(rule.limit):
        ratelimit.hit(AUDITED_REFUSALS, elsewhere, key=f"person:{charlie.pk}")

    response = outsider.get(
        reverse("records:record", args=["00000000-0000-4000-8000-0000000000aa"])
    )

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).exists()
    assert len(security_lines(caplog, "access.denied")) == 1


def test_a_helpdesk_page_beyond_the_role_is_audited_and_logged(
    agent_client: Client, agent: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """V16.3.2 for staff: an agent's 403 on a superviseur's page."""
    caplog.set_level(logging.WARNING, logger="esante.security")

    response = agent_client.get(reverse("helpdesk:audit_log"))

    assert response.status_code == 403
    event = AuditEvent.objects.get(event_type=EventType.ACCESS_DENIED)
    assert event.actor == f"staff:{agent.pk}" and event.person is None
    assert event.details == {
        "path": reverse("helpdesk:audit_log"),
        "reason": "permission",
        "permission": "helpdesk.view_audit_log",
    }
    [line] = security_lines(caplog, "access.denied")
    assert line["actor"] == f"staff:{agent.pk}"


# V16.3.3: attempts to get round a control.


def test_a_wrong_captcha_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """V16.3.3, anti-automation: a wrong captcha answer, or none, is a log line naming
    the form; the visitor reads the usual message."""
    caplog.set_level(logging.WARNING, logger="esante.security")
    wrong = {"matricule": "19800101123", "captcha_0": "0" * 40, "captcha_1": "12345"}

    response = Client().post(reverse("patient:recovery"), wrong)
    Client().post(reverse("patient:recovery"), {"matricule": "19800101123"})

    assert response.status_code == 400
    assert "Le captcha ne correspond pas" in page_text(response)
    lines = security_lines(caplog, "captcha.failed")
    assert [(line["form"], line["reason"]) for line in lines] == [
        ("NewLetterForm", "invalid"),
        ("NewLetterForm", "required"),
    ]
    assert lines[0]["path"] == reverse("patient:recovery") and lines[0]["ip"] == "127.0.0.1"


def test_a_flow_step_taken_out_of_order_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """V16.3.3, business logic: posting to activation step 2 before step 1, or to the
    login's code page without a patient_sessions, is redirected as before and logged."""
    caplog.set_level(logging.WARNING, logger="esante.security")
    client = Client()
    start(client)

    ahead = client.post(reverse("activation:password"), {"password1": "x", "password2": "x"})
    no_flow = Client().post(reverse("patient:login_code"), {"code": "123456"})

    assert ahead["Location"] == reverse("activation:code")
    assert no_flow["Location"] == reverse("patient:login")
    lines = security_lines(caplog, "flow.out_of_order")
    assert [(line["flow"], line["stage"], line["reason"]) for line in lines] == [
        ("activation", "password", "ahead"),
        ("login", "code", "no_flow"),
    ]
    assert lines[0]["current"] == "code"


def test_values_no_page_offers_are_logged(
    alice: InsuredPerson,
    bob: InsuredPerson,
    charlie: InsuredPerson,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """V16.3.3, input validation: a code channel the page does not offer, an assistant
    who is not the person found by the search, a ✓ without a search — each refused as
    before, and a log line naming the fields (never their values)."""
    caplog.set_level(logging.WARNING, logger="esante.security")
    wizard = Client()
    reach_password_step(wizard, alice)
    submit_password(wizard)
    holder = logged_in(bob, "bob@example.lu")
    logged_in(charlie, "charlie@example.lu", declare=False)
    record = CareRecord.objects.get(person=bob)
    add = reverse("records:assistant_add", args=[record.public_id])

    fax = wizard.post(reverse("activation:contact"), {"channel": "fax", "email": EMAIL})
    without_search = holder.post(add, {"candidate": charlie.esante_id, "type": "assistant_dsp"})
    search(holder, record, charlie.matricule)
    forged = holder.post(add, {"candidate": alice.esante_id, "type": "assistant_dsp"})

    assert fax.status_code == forged.status_code == 400
    assert without_search.status_code == 302
    assert not Assistant.objects.exists()
    tampered = security_lines(caplog, "form.tampered")
    assert [(line["form"], line["fields"]) for line in tampered] == [
        ("ContactForm", ["channel"]),
        ("AssistantAddForm", ["candidate"]),
    ]
    assert alice.esante_id not in json.dumps(tampered) and "fax" not in json.dumps(tampered)
    [no_search] = security_lines(caplog, "flow.out_of_order")
    assert no_search["flow"] == "assistant_add" and no_search["reason"] == "no_search"
