"""Issue 13, item 7: a new letter for an activated account is announced and waits.

A new letter re-activates (takes over) an account, so whoever intercepts the post would
get in. The holder is told on their channel when one is asked for and when it is issued,
each time with a link that cancels it without logging in (and *Mes services* / *Mon
compte* while logged in); and while the account has a working second factor the letter
opens it only ESANTE_LETTER_REACTIVATION_WAIT_DAYS (7) after that notice. The helpdesk's
reset of the channel removes that factor: no wait after it."""

from __future__ import annotations

import datetime
import re
from email.header import decode_header, make_header
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts.models import Account
from esante.audit.models import AuditEvent, EventType
from esante.notifications.actions import deliver_pending
from esante.notifications.models import OutboundMessage
from esante.registry.letters import issue_letters, persons_needing_letters
from esante.registry.models import ActivationLetter, InsuredPerson, LetterRequest
from tests.accounts.test_authenticator_app import T0, activate_with_app, app_code
from tests.accounts.test_login import EMAIL, log_in, submit_credentials
from tests.accounts.test_new_letter import ask_for_letter
from tests.accounts.wizard import (
    alert_text,
    last_one_time_code,
    letter_code_of,
    page_text,
    reach_password_step,
    start,
    submit_code,
    submit_contact,
    submit_one_time_code,
    submit_password,
)
from tests.helpdesk.test_agent import act
from tests.servers import SmsGateway, SmtpServer

pytestmark = pytest.mark.django_db

MOBILE, NUMBER = "621 123 456", "+352621123456"
REQUESTED = "Nouveau courrier d'activation demandé pour votre compte eSanté"
ISSUED = "Un nouveau courrier d'activation part pour votre compte eSanté"
CANCELLED = "Nouveau courrier d'activation annulé"
WAITS = "ne fonctionnera qu'à partir du"
INVALID_LINK = "Ce lien n'est pas ou plus valable"
LINK = re.compile(r"https?://\S+/nouveau-courrier/annuler/[A-Za-z0-9_-]+/")
WAIT = datetime.timedelta(days=7)


def link_in(text: str) -> str:
    """The path of the cancel link a notice carries."""
    found = LINK.search(text)
    assert found, text
    return urlsplit(found.group()).path


def ask(person: InsuredPerson) -> None:
    client = Client()
    start(client)
    ask_for_letter(client, person.matricule)


def mail(smtp_server: SmtpServer, subject: str) -> str:
    (found,) = [
        each
        for each in smtp_server.mails
        if str(make_header(decode_header(each.message["Subject"]))) == subject
    ]
    assert found.recipients == [EMAIL]
    return found.text


def sms(sms_gateway: SmsGateway, starting: str) -> str:
    texts = [each.payload["text"] for each in sms_gateway.requests]
    (found,) = [text for text in texts if starting in text]
    return str(found)


def try_letter(person: InsuredPerson) -> Any:
    client = Client()
    start(client)
    return submit_code(client, person.matricule, letter_code_of(person))


def test_a_request_is_mailed_to_the_holder_with_a_link_that_cancels_once(
    account: Account, alice: InsuredPerson, smtp_server: SmtpServer, settings: Any
) -> None:
    settings.ESANTE_DEMO = False  # production: the link must not outlive its delivery

    ask(alice)
    deliver_pending()

    text = mail(smtp_server, REQUESTED)
    assert "Si ce n'était pas vous, annulez la demande" in text
    link = link_in(text)
    stored = OutboundMessage.objects.get(subject=REQUESTED)
    assert link not in stored.body  # masked once delivered, as a code
    request = LetterRequest.objects.get(person=alice)
    assert request.notified_at is not None
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in (request.cancel_token_hash, request.issued_token_hash)

    shown = Client().get(link)  # a GET shows, changes nothing
    assert shown.status_code == 200
    assert "Annuler ce nouveau courrier" in page_text(shown)
    assert shown["Cache-Control"].startswith("max-age=0")
    request.refresh_from_db()
    assert request.cancelled_at is None

    wrong = Client().get(link[:-5] + "AAAA/")
    assert wrong.status_code == 404
    assert INVALID_LINK in alert_text(wrong)

    done = Client().post(link)
    assert done.status_code == 200
    assert "Le nouveau courrier est annulé" in page_text(done)
    request.refresh_from_db()
    assert request.cancelled_at is not None and request.fulfilled_at is not None
    assert list(persons_needing_letters()) == []  # no letter goes out
    event = AuditEvent.objects.get(event_type=EventType.LETTER_REQUEST_CANCELLED)
    assert (event.person, event.details["via"]) == (alice, "link")

    again = Client().post(link)
    assert again.status_code == 404
    assert alert_text(again) == alert_text(wrong)  # a spent link reads as a wrong one
    assert Client().get(link).status_code == 404
    deliver_pending()
    assert "est annulé" in mail(smtp_server, CANCELLED)


def test_an_issued_letter_is_texted_and_refused_until_the_wait_is_over(
    alice: InsuredPerson, sms_gateway: SmsGateway
) -> None:
    with time_machine.travel(T0, tick=False):
        client = Client()
        reach_password_step(client, alice)
        submit_password(client)
        submit_contact(client, "sms", MOBILE)
        submit_one_time_code(client, last_one_time_code(NUMBER))
        assert Account.objects.get(person=alice).phone == NUMBER

        ask(alice)
        deliver_pending()
        assert "Si ce n'était pas vous" in sms(sms_gateway, "un nouveau courrier d'activation")

    with time_machine.travel(T0 + datetime.timedelta(days=1), tick=False):
        issue_letters(persons_needing_letters(), actor="test")
        deliver_pending()
        issued = sms(sms_gateway, "part par la poste")
        assert "Si ce n'était pas vous, annulez-le" in issued
        assert "à partir du 3 décembre 2026" in issued  # 7 days after the request's notice
        assert Client().get(link_in(issued)).status_code == 200  # its own link works

    with time_machine.travel(T0 + WAIT - datetime.timedelta(minutes=1), tick=False):
        refused = try_letter(alice)
        assert refused.status_code == 400
        assert WAITS in alert_text(refused) and "3 décembre 2026" in alert_text(refused)
        assert ActivationLetter.objects.filter(person=alice).latest("pk").used_at is None
        waiting = AuditEvent.objects.get(event_type=EventType.LETTER_REACTIVATION_WAITING)
        assert waiting.person == alice

    with time_machine.travel(T0 + WAIT + datetime.timedelta(minutes=1), tick=False):
        assert try_letter(alice)["Location"] == reverse("activation:password")


def test_the_holder_cancels_by_logging_in_and_nobody_else_can(
    account: Account, alice: InsuredPerson, bob: InsuredPerson, agent_client: Client
) -> None:
    ask(alice)
    issue_letters(persons_needing_letters(), actor="test")
    request = LetterRequest.objects.get(person=alice)
    activate_bob = Client()
    reach_password_step(activate_bob, bob)
    submit_password(activate_bob)
    submit_contact(activate_bob, "email", "bob@example.lu")
    submit_one_time_code(activate_bob, last_one_time_code("bob@example.lu"))
    as_bob = Client()
    submit_credentials(as_bob, bob.matricule)
    as_bob.post(reverse("patient:login_code"), {"code": last_one_time_code("bob@example.lu")})

    stranger = as_bob.post(reverse("patient:letter_cancel_mine", args=[request.pk]))
    assert stranger.status_code == 404
    client = Client()
    log_in(client, account)
    services = page_text(client.get(reverse("patient:services")))
    assert "Un nouveau courrier d'activation est en cours pour votre compte" in services
    assert "Un nouveau courrier d'activation est en cours" in page_text(
        client.get(reverse("patient:account"))
    )

    done = client.post(
        reverse("patient:letter_cancel_mine", args=[request.pk]), {"retour": "services"}
    )

    assert done["Location"] == reverse("patient:services")
    assert "en cours pour votre compte" not in page_text(client.get(reverse("patient:services")))
    event = AuditEvent.objects.get(event_type=EventType.LETTER_REQUEST_CANCELLED)
    assert (event.actor, event.details["via"]) == (f"person:{alice.pk}", "account")
    helpdesk_view = page_text(agent_client.get(reverse("helpdesk:person", args=[alice.esante_id])))
    assert "annulée par le titulaire du compte le" in helpdesk_view
    with time_machine.travel(timezone.now() + WAIT * 2):
        refused = try_letter(alice)  # the letter, voided, never opens the account
        assert refused.status_code == 400
        assert "remplacé" in alert_text(refused)


def test_an_app_only_account_sees_the_notice_at_its_next_login_and_waits_too(
    alice: InsuredPerson,
) -> None:
    with time_machine.travel(T0, tick=False):
        secret, _codes, _page = activate_with_app(Client(), alice)
        messages_before = OutboundMessage.objects.exclude(channel="letter").count()
        ask(alice)
        issue_letters(persons_needing_letters(), actor="test")
        # No address to write to: nothing sent, the notices wait for the login.
        assert OutboundMessage.objects.exclude(channel="letter").count() == messages_before

    later = T0 + datetime.timedelta(days=2)
    with time_machine.travel(later, tick=False):
        client = Client()
        submit_credentials(client, alice.matricule)
        landed = client.post(reverse("patient:login_code"), {"code": app_code(secret, later)})
        assert landed["Location"] == reverse("patient:services")
        page = page_text(client.get(landed["Location"]))
        assert "Un nouveau courrier d'activation est en cours pour votre compte" in page
        assert "Annuler ce nouveau courrier" in page
        assert WAITS in alert_text(try_letter(alice))

    with time_machine.travel(T0 + WAIT + datetime.timedelta(minutes=1), tick=False):
        assert try_letter(alice)["Location"] == reverse("activation:password")


def test_after_the_helpdesks_reset_the_letter_works_at_once_and_old_links_are_dead(
    agent_client: Client, account: Account, alice: InsuredPerson
) -> None:
    ask(alice)  # told by e-mail, to the mailbox that is then lost
    link = link_in(OutboundMessage.objects.get(subject=REQUESTED).body)

    reset = act(agent_client, alice, "canal", reason="Téléphone et messagerie perdus")

    assert "sans délai d'attente" in page_text(reset)
    assert Client().get(link).status_code == 404  # whoever holds it cannot stop the letter
    issue_letters(persons_needing_letters(), actor="test")
    assert not OutboundMessage.objects.filter(subject=ISSUED).exists()  # no address left
    assert try_letter(alice)["Location"] == reverse("activation:password")


def test_the_helpdesks_reissue_is_announced_and_waits(
    agent_client: Client, account: Account, alice: InsuredPerson
) -> None:
    done = act(agent_client, alice, "courrier", reason="Courrier égaré")

    assert "Le titulaire du compte en est prévenu" in page_text(done)
    notice = OutboundMessage.objects.get(subject=REQUESTED)
    assert notice.recipient == EMAIL and link_in(notice.body)
    told = AuditEvent.objects.get(event_type=EventType.LETTER_REQUEST_NOTIFIED)
    assert told.actor.startswith("staff:")
    issue_letters(persons_needing_letters(), actor="test")
    assert WAITS in alert_text(try_letter(alice))


@pytest.mark.parametrize("token", ["%00", "A" * 300, "%3Cscript%3Ealert(1)", "été"])
def test_a_hostile_link_is_refused_like_a_wrong_one(client: Client, token: str) -> None:
    for method in (client.get, client.post):
        response = method(f"/nouveau-courrier/annuler/{token}/")
        assert response.status_code == 404
        assert INVALID_LINK in alert_text(response)
        assert "<script>" not in response.content.decode()
