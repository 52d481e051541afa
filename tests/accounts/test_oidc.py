"""LuxTrust and other identity providers, against a real OpenID Connect provider process
(oidc-provider-mock): login, linking at step 4 and from Mon compte, unlinking after the
password, activation without a letter, and what goes wrong (provider down, cancel, unknown
subject, a national number that is not the account's, a forged state)."""

from __future__ import annotations

import datetime
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts import reauth
from esante.accounts.authenticators import identity_providers
from esante.accounts.models import Account, IdentityLink
from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import OutboundMessage
from esante.registry.models import ActivationLetter, InsuredPerson
from tests.accounts.test_login import EMAIL, log_in, step_up
from tests.accounts.wizard import (
    PASSWORD,
    activate,
    issue_letter,
    last_one_time_code,
    page_text,
    reach_one_time_code_step,
    start,
    submit_contact,
    submit_one_time_code,
    submit_password,
)
from tests.servers import OidcProvider, free_port

pytestmark = pytest.mark.django_db

START = reverse("patient:oidc_start", args=["luxtrust"])


def at_provider(
    client: Client,
    provider: OidcProvider,
    purpose: str,
    subject: str | None,
    *,
    deny: bool = False,
) -> Any:
    """Press the provider's button for `purpose`, log in there as `subject` (or cancel),
    and come back: the response of our callback."""
    response = client.post(START, {"but": purpose})
    assert response.status_code == 302, page_text(response)
    authorize_url = response["Location"]
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["state"][0] and query["nonce"][0]
    back = provider.authorize(authorize_url, subject, deny=deny)
    return client.get(back)


@pytest.fixture
def account(alice: InsuredPerson) -> Account:
    activate(Client(), alice, EMAIL)
    return Account.objects.get(person=alice)


@pytest.fixture
def linked(account: Account, oidc_provider: OidcProvider) -> str:
    """Alice has linked her LuxTrust (subject "alice-lt") from Mon compte."""
    subject = f"alice-{account.pk}-{free_port()}"
    oidc_provider.add_user(
        subject,
        matricule=account.person.matricule,
        acr="urn:luxtrust:loa:substantial",
        amr=["hwk", "pin"],
    )
    client = Client()
    log_in(client, account)
    response = at_provider(client, oidc_provider, "link", subject)
    assert response["Location"] == reverse("patient:account")
    return subject


def test_linking_from_mon_compte_records_the_link_audits_and_notifies(
    account: Account, linked: str
) -> None:
    link = IdentityLink.objects.get()
    assert (link.account, link.provider, link.subject) == (account, "luxtrust", linked)
    assert (link.acr, link.amr) == ("urn:luxtrust:loa:substantial", ["hwk", "pin"])
    assert AuditEvent.objects.filter(event_type=EventType.IDENTITY_LINKED).count() == 1
    assert OutboundMessage.objects.filter(
        recipient=EMAIL, subject="LuxTrust est associé à votre compte eSanté"
    ).exists()


def test_a_linked_provider_logs_in_completely_without_a_one_time_code(
    account: Account, linked: str, oidc_provider: OidcProvider
) -> None:
    client = Client()
    codes_before = OutboundMessage.objects.count()

    response = at_provider(client, oidc_provider, "login", linked)

    assert response["Location"] == reverse("patient:services")
    assert client.get(reverse("patient:services")).status_code == 200
    assert OutboundMessage.objects.count() in (codes_before, codes_before + 1)  # new device
    event = AuditEvent.objects.filter(event_type=EventType.LOGIN_SUCCEEDED).latest("pk")
    assert event.details["method"] == "oidc:luxtrust"
    assert event.details["amr"] == ["hwk", "pin"]
    assert IdentityLink.objects.get().last_used_at is not None


def test_an_unknown_subject_gets_a_clear_message_and_no_session(
    oidc_provider: OidcProvider,
) -> None:
    client = Client()
    oidc_provider.add_user("nobody-here", matricule="19800101123")

    response = at_provider(client, oidc_provider, "login", "nobody-here")

    assert response["Location"] == reverse("portal:login_choice")
    page = page_text(client.get(response["Location"]))
    assert "Aucun compte eSanté n'est associé à ce compte LuxTrust." in page
    assert client.get(reverse("patient:services")).status_code == 302


def test_cancelling_at_the_provider_comes_back_with_a_message(
    oidc_provider: OidcProvider,
) -> None:
    client = Client()

    response = at_provider(client, oidc_provider, "login", None, deny=True)

    assert response["Location"] == reverse("portal:login_choice")
    assert "Vous avez annulé la connexion chez LuxTrust." in page_text(
        client.get(response["Location"])
    )


def test_a_provider_that_does_not_answer_gets_a_clear_message(
    settings: Any, oidc_process: OidcProvider
) -> None:
    settings.ESANTE_OIDC_PROVIDERS = [
        oidc_process.provider_setting(issuer=f"http://127.0.0.1:{free_port()}")
    ]
    client = Client()

    response = client.post(START, {"but": "login"})

    assert response["Location"] == reverse("portal:login_choice")
    page = page_text(client.get(response["Location"]))
    assert "LuxTrust ne répond pas pour le moment." in page


def test_a_forged_state_is_refused(oidc_provider: OidcProvider, account: Account) -> None:
    client = Client()
    response = client.post(START, {"but": "login"})
    oidc_provider.add_user("forger", matricule=account.person.matricule)
    back = oidc_provider.authorize(response["Location"], "forger")
    forged = back.replace("state=", "state=x")

    refused = client.get(forged)

    assert refused["Location"] == reverse("portal:login_choice")
    assert "n'a pas pu être vérifiée" in page_text(client.get(refused["Location"]))
    assert client.get(reverse("patient:services")).status_code == 302


def test_a_callback_nobody_asked_for_is_refused(oidc_provider: OidcProvider) -> None:
    client = Client()

    response = client.get(reverse("patient:oidc_callback", args=["luxtrust"]) + "?code=x&state=y")

    assert response["Location"] == reverse("portal:login_choice")


def test_a_national_number_that_is_not_the_accounts_is_refused(
    account: Account, oidc_provider: OidcProvider
) -> None:
    oidc_provider.add_user("someone-else", matricule="19791231123")
    client = Client()
    log_in(client, account)

    response = at_provider(client, oidc_provider, "link", "someone-else")

    assert not IdentityLink.objects.exists()
    page = page_text(client.get(response["Location"]))
    assert "ne correspond pas à votre matricule" in page
    refusal = AuditEvent.objects.get(event_type=EventType.IDENTITY_REFUSED)
    assert refusal.details["reason"] == "national_id_mismatch"


def test_a_provider_that_does_not_send_the_national_number_links_nothing(
    account: Account, oidc_provider: OidcProvider
) -> None:
    """The provider is configured to send it (national_id_claim): without it, nothing
    shows that the provider's account is the patient's."""
    oidc_provider.add_user("sans-numero")
    client = Client()
    log_in(client, account)

    response = at_provider(client, oidc_provider, "link", "sans-numero")

    assert not IdentityLink.objects.exists()
    assert "n'a pas transmis votre numéro d'identification" in page_text(
        client.get(response["Location"])
    )
    refusal = AuditEvent.objects.get(event_type=EventType.IDENTITY_REFUSED)
    assert refusal.details["reason"] == "national_id_missing"


def second_factor_proven_long_ago(client: Client) -> None:
    """The session's second factor was last proven 11 minutes ago (the provider's tokens
    are checked against the real clock: the session is aged, not the clock moved)."""
    session = client.session
    session[reauth.SECOND_FACTOR_KEY] = (
        timezone.now() - datetime.timedelta(minutes=11)
    ).isoformat()
    session.save()


def test_linking_asks_for_a_fresh_second_factor_after_ten_minutes(
    account: Account, oidc_provider: OidcProvider
) -> None:
    """A provider linked logs in without password nor code: a session found open later
    cannot link its own LuxTrust, even with the password, without a fresh second factor."""
    oidc_provider.add_user("intrus", matricule=account.person.matricule)
    client = Client()
    log_in(client, account)
    second_factor_proven_long_ago(client)
    refused = client.post(START, {"but": "link"})
    assert refused["Location"].startswith(reverse("patient:step_up"))
    page = page_text(client.get(reverse("patient:account")))
    assert "Pour associer ou dissocier un produit LuxTrust, confirmez d'abord" in page

    client.post(
        reverse("patient:account"), {"confirm_password": "strong", "fournisseurs-current": PASSWORD}
    )
    assert client.post(START, {"but": "link"})["Location"].startswith(reverse("patient:step_up"))

    step_up(client)
    linked = at_provider(client, oidc_provider, "link", "intrus")

    assert linked.status_code == 302
    assert IdentityLink.objects.get().subject == "intrus"


def test_the_linked_provider_confirms_ones_identity_and_another_subject_does_not(
    account: Account, linked: str, oidc_provider: OidcProvider
) -> None:
    """*Confirmez votre identité* with LuxTrust: only the subject linked to the account."""
    oidc_provider.add_user("quelquun-d-autre", matricule=account.person.matricule)
    client = Client()
    log_in(client, account)
    second_factor_proven_long_ago(client)
    contact = reverse("patient:contact")
    asked = client.get(contact)
    assert asked["Location"] == f"{reverse('patient:step_up')}?suivant=%2Fmon-compte%2Fcontact%2F"
    assert "Confirmer avec LuxTrust" in page_text(client.get(asked["Location"]))

    other = at_provider(client, oidc_provider, "stepup", "quelquun-d-autre")
    assert other["Location"] == reverse("patient:step_up")
    assert client.get(contact)["Location"].startswith(reverse("patient:step_up"))
    failed = AuditEvent.objects.get(event_type=EventType.STEP_UP_FAILED)
    assert failed.details["reason"] == "other_subject"

    client.get(asked["Location"])
    done = at_provider(client, oidc_provider, "stepup", linked)

    assert done["Location"] == contact
    assert client.get(contact).status_code == 200
    proof = AuditEvent.objects.get(event_type=EventType.STEP_UP_SUCCEEDED)
    assert proof.details["method"] == "oidc:luxtrust"


def test_one_provider_subject_opens_one_account_only(
    linked: str, bob: InsuredPerson, oidc_provider: OidcProvider
) -> None:
    activate(Client(), bob, "bob@example.lu")
    client = Client()
    client.post(reverse("patient:login"), {"matricule": bob.matricule, "password": PASSWORD})
    client.post(reverse("patient:login_code"), {"code": last_one_time_code("bob@example.lu")})
    oidc_provider.add_user(linked, matricule=bob.matricule)  # the same subject, for Bob

    response = at_provider(client, oidc_provider, "link", linked)

    assert "déjà associé à un autre compte eSanté" in page_text(client.get(response["Location"]))
    assert IdentityLink.objects.count() == 1


def test_unlinking_asks_for_the_password(
    account: Account, linked: str, oidc_provider: OidcProvider
) -> None:
    """Right after the login, the second factor is fresh: the password confirms."""
    client = Client()
    log_in(client, account)
    url = reverse("patient:identity_unlink", args=["luxtrust"])
    assert "Dissocier" in page_text(client.get(reverse("patient:account")))

    wrong = client.post(url, {"current": "pas le bon"})
    assert wrong.status_code == 400 and IdentityLink.objects.exists()
    done = client.post(url, {"current": PASSWORD})

    assert done["Location"] == reverse("patient:account")
    assert not IdentityLink.objects.exists()
    assert AuditEvent.objects.filter(event_type=EventType.IDENTITY_UNLINKED).exists()
    after = at_provider(Client(), oidc_provider, "login", linked)
    assert after["Location"] == reverse("portal:login_choice")


def test_step_4_links_luxtrust_during_activation(
    alice: InsuredPerson, oidc_provider: OidcProvider
) -> None:
    client = Client()
    reach_one_time_code_step(client, alice, EMAIL)
    submit_one_time_code(client, last_one_time_code(EMAIL))
    step_4 = page_text(client.get(reverse("activation:authenticators")))
    assert "Associer un produit LuxTrust" in step_4 and "Connexion" in step_4
    oidc_provider.add_user("alice-step4", matricule=alice.matricule)

    response = at_provider(client, oidc_provider, "activation_link", "alice-step4")

    assert response["Location"] == reverse("activation:authenticators")
    page = page_text(client.get(response["Location"]))
    assert "LuxTrust est associé à votre compte eSanté." in page and "Associé" in page
    assert IdentityLink.objects.get().account.person == alice
    done = client.post(reverse("activation:authenticators"))
    assert done["Location"] == reverse("activation:done")


def test_activation_without_a_letter_through_the_provider(
    alice: InsuredPerson, oidc_provider: OidcProvider
) -> None:
    client = Client()
    start(client)
    oidc_provider.add_user("alice-noletter", matricule=alice.matricule, acr="substantial")
    assert "Activer avec LuxTrust" in page_text(
        client.get(reverse("activation:code") + "?recu=non")
    )

    response = at_provider(client, oidc_provider, "activation", "alice-noletter")

    assert response["Location"] == reverse("activation:password")
    assert submit_password(client).status_code == 302
    assert submit_contact(client, "email", EMAIL).status_code == 302
    done = submit_one_time_code(client, last_one_time_code(EMAIL))
    assert done["Location"] == reverse("activation:authenticators")
    account = Account.objects.get(person=alice)
    assert account.activation_letter is None
    assert IdentityLink.objects.get(subject="alice-noletter").account == account
    event = AuditEvent.objects.get(event_type=EventType.ACCOUNT_ACTIVATED)
    assert event.details["identity_provider"] == "luxtrust"
    # and the provider logs her in from now on
    assert at_provider(Client(), oidc_provider, "login", "alice-noletter")["Location"] == (
        reverse("patient:services")
    )


def test_activation_without_a_letter_needs_a_known_national_number(
    alice: InsuredPerson, oidc_provider: OidcProvider
) -> None:
    issue_letter(alice)
    client = Client()
    start(client)
    oidc_provider.add_user("stranger", matricule="19791231123")

    response = at_provider(client, oidc_provider, "activation", "stranger")

    assert response["Location"] == reverse("activation:code")
    page = page_text(client.get(response["Location"]))
    assert "ne nous a pas transmis de matricule connu du registre" in page
    assert not Account.objects.exists()
    assert ActivationLetter.objects.get().used_at is None


LEVELS = "urn:luxtrust:loa:substantial urn:luxtrust:loa:high"


@pytest.fixture
def demanding(oidc_provider: OidcProvider, settings: Any) -> OidcProvider:
    """The agency asks LuxTrust for a substantial or high level, within 5 minutes."""
    settings.ESANTE_OIDC_PROVIDERS = [
        oidc_provider.provider_setting(acr_values=LEVELS, max_age=300)
    ]
    return oidc_provider


def link_with(account: Account, provider: OidcProvider, **claims: Any) -> str:
    subject = f"alice-{account.pk}-{free_port()}"
    provider.add_user(subject, matricule=account.person.matricule, **claims)
    IdentityLink.objects.create(account=account, provider="luxtrust", subject=subject)
    return subject


def test_the_strength_asked_is_sent_to_the_provider(
    demanding: OidcProvider, account: Account
) -> None:
    response = Client().post(START, {"but": "login"})
    query = parse_qs(urlsplit(response["Location"]).query)

    assert query["acr_values"] == [LEVELS]
    assert query["max_age"] == ["300"]


def test_a_strong_and_recent_provider_login_opens_the_session(
    demanding: OidcProvider, account: Account
) -> None:
    subject = link_with(
        account, demanding, acr="urn:luxtrust:loa:high", auth_time=int(time.time()) - 60
    )
    client = Client()

    response = at_provider(client, demanding, "login", subject)

    assert response["Location"] == reverse("patient:services")


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"acr": "urn:luxtrust:loa:low", "auth_time": "now"}, "acr_not_accepted"),
        ({"auth_time": "now"}, "acr_not_accepted"),  # no level said: the weakest
        ({"acr": "urn:luxtrust:loa:high", "auth_time": "an hour ago"}, "auth_time_too_old"),
    ],
)
def test_a_weak_or_stale_provider_login_opens_nothing(
    demanding: OidcProvider, account: Account, claims: dict[str, Any], reason: str
) -> None:
    """ASVS 5.0 6.3.4, 6.8.4, 7.6.1: the provider's word is checked, not assumed."""
    times = {"now": int(time.time()), "an hour ago": int(time.time()) - 3600}
    if "auth_time" in claims:
        claims = {**claims, "auth_time": times[claims["auth_time"]]}
    subject = link_with(account, demanding, **claims)
    client = Client()

    response = at_provider(client, demanding, "login", subject)

    assert response["Location"] == reverse("portal:login_choice")
    page = page_text(client.get(response["Location"]))
    assert "LuxTrust n'a pas confirmé une connexion assez forte ou assez récente" in page
    assert client.get(reverse("patient:services")).status_code == 302
    refused = AuditEvent.objects.filter(event_type=EventType.LOGIN_FAILED).latest("pk")
    assert refused.details["reason"] == reason


def test_a_provider_that_says_no_auth_time_counts_as_too_old(demanding: OidcProvider) -> None:
    """The mock provider always sends `auth_time`; a real one might not."""
    provider = identity_providers.provider("luxtrust")
    assert provider is not None
    identity = identity_providers.Identity(
        provider=provider, subject="x", acr="urn:luxtrust:loa:high"
    )

    with pytest.raises(identity_providers.ProviderError) as refused:
        identity_providers._check_strength(identity)
    assert refused.value.reason == "auth_time_too_old"
