"""At a login, every way (password and code, passkey, identity provider), the pages and the
account agree on one language: a language chosen in the menu before logging in becomes the
account's (audited, as the menu does once logged in); a browser that chose none is switched
to the account's."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from esante.accounts.models import Account
from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import OutboundMessage
from esante.registry.models import InsuredPerson, Language
from tests.accounts.softauthn import SoftAuthenticator
from tests.accounts.test_login import EMAIL, log_in, submit_credentials
from tests.accounts.test_notice_language import browser
from tests.accounts.test_oidc import at_provider
from tests.accounts.test_passkeys import passkey_login, register
from tests.accounts.wizard import activate, last_one_time_code
from tests.portal.html import parse
from tests.servers import OidcProvider, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def german_account(alice: InsuredPerson) -> Account:
    """Alice activated her account on German pages."""
    activate(browser("de"), alice, EMAIL)
    return Account.objects.get(person=alice)


def page_language(client: Client) -> str:
    page = parse(client.get(reverse("patient:services")).content.decode())
    (html,) = page.find_all("html")
    return html.attrs["lang"]


def chose_in_menu(language: str) -> Client:
    """A visitor, not logged in, who picked `language` in the language menu."""
    client = Client()
    client.post(reverse("set_language"), {"language": language, "next": "/"})
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == language
    return client


def language_changes() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=EventType.LANGUAGE_CHANGED))


def test_a_fresh_browser_shows_the_account_s_language_after_login(
    german_account: Account,
) -> None:
    client = Client()
    assert client.cookies.get(settings.LANGUAGE_COOKIE_NAME) is None

    log_in(client, german_account)

    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert page_language(client) == "de"
    assert Account.objects.get(pk=german_account.pk).language == Language.GERMAN
    assert not language_changes()


def test_a_language_chosen_before_login_becomes_the_account_s(german_account: Account) -> None:
    client = chose_in_menu("en")

    log_in(client, german_account)

    assert Account.objects.get(pk=german_account.pk).language == Language.ENGLISH
    assert page_language(client) == "en"
    (event,) = language_changes()
    assert event.person_id == german_account.person_id
    assert event.details["language"] == "en" and event.details["previous"] == "de"


def test_the_new_device_notice_goes_in_the_language_the_holder_had(
    german_account: Account,
) -> None:
    log_in(chose_in_menu("en"), german_account)

    notice = OutboundMessage.objects.filter(recipient=EMAIL).latest("pk")
    assert notice.subject == "Neue Anmeldung bei Ihrem eSanté-Konto"


def test_the_account_s_own_language_chosen_before_login_records_nothing(
    german_account: Account,
) -> None:
    client = chose_in_menu("de")

    log_in(client, german_account)

    assert page_language(client) == "de"
    assert not language_changes()


def test_a_language_the_portal_does_not_speak_gives_way_to_the_account_s(
    german_account: Account,
) -> None:
    client = browser("it")

    log_in(client, german_account)

    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert Account.objects.get(pk=german_account.pk).language == Language.GERMAN


@pytest.fixture
def key(german_account: Account) -> SoftAuthenticator:
    """Alice has registered a passkey from Mon compte."""
    client = Client()
    log_in(client, german_account)
    authenticator = SoftAuthenticator()
    assert register(client, authenticator).status_code == 200
    return authenticator


def test_a_passkey_login_shows_the_account_s_language(key: SoftAuthenticator) -> None:
    client = Client()

    assert passkey_login(client, key).status_code == 200

    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert page_language(client) == "de"


def test_a_passkey_login_keeps_the_language_chosen_before(
    german_account: Account, key: SoftAuthenticator
) -> None:
    assert passkey_login(chose_in_menu("fr"), key).status_code == 200

    assert Account.objects.get(pk=german_account.pk).language == Language.FRENCH
    assert [event.details["language"] for event in language_changes()] == ["fr"]


@pytest.fixture
def linked(german_account: Account, oidc_provider: OidcProvider) -> str:
    """Alice has linked her LuxTrust from Mon compte."""
    subject = f"alice-{german_account.pk}-{free_port()}"
    oidc_provider.add_user(subject, matricule=german_account.person.matricule)
    client = Client()
    log_in(client, german_account)
    response = at_provider(client, oidc_provider, "link", subject)
    assert response["Location"] == reverse("patient:account")
    return subject


def test_an_identity_provider_login_shows_the_account_s_language(
    linked: str, oidc_provider: OidcProvider
) -> None:
    client = Client()

    response = at_provider(client, oidc_provider, "login", linked)

    assert response["Location"] == reverse("patient:services")
    assert page_language(client) == "de"


def test_an_identity_provider_login_keeps_the_language_chosen_before(
    german_account: Account, linked: str, oidc_provider: OidcProvider
) -> None:
    client = chose_in_menu("en")

    at_provider(client, oidc_provider, "login", linked)

    assert Account.objects.get(pk=german_account.pk).language == Language.ENGLISH
    assert page_language(client) == "en"


def test_a_cookie_left_by_another_login_on_a_shared_browser_is_no_choice(
    german_account: Account, bob: InsuredPerson
) -> None:
    """A family's browser: Alice's German login leaves the German cookie; Bob, whose
    account is French, logs in next and keeps French pages and his French notices."""
    activate(browser("fr"), bob, "bob@example.lu")
    bobs = Account.objects.get(person=bob)
    client = Client()
    log_in(client, german_account)
    client.post(reverse("patient:logout"))
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"

    submit_credentials(client, bob.matricule)
    client.post(reverse("patient:login_code"), {"code": last_one_time_code("bob@example.lu")})

    assert Account.objects.get(pk=bobs.pk).language == Language.FRENCH
    assert page_language(client) == "fr"
    assert not language_changes()
