"""The authenticator app (TOTP) as the code channel, in a real browser, in French.

The test plays the app: it reads the key printed beside the QR code (as someone typing it
by hand would) and computes the app's 6-digit code with pyotp. Activation with the app
(step 3's choice made with the keyboard alone, the QR code page, the ten recovery codes
of step 4, step 5); then *Connexion* with the app's code, with a recovery code, and the
same app code refused the second time. axe-core on every page reached.

The app's codes change every 30 s and the portal accepts one step of drift but never a
step it has already accepted: each test starts away from the end of a step
(`a_fresh_step`), and the accounts made without the browser take the previous step's code
at activation, so that the current step's code is still unused for the first login.
"""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect

from esante.accounts.authenticators import totp
from esante.accounts.authenticators.one_time_codes import MAX_FAILED_ATTEMPTS
from esante.accounts.models import Account, CodeChannel, OneTimeCode, RecoveryCode
from esante.audit.models import AuditEvent, EventType
from esante.registry.letters import issue_letters
from esante.registry.models import InsuredPerson
from tests.accounts.conftest import activation_settings  # noqa: F401 - autouse
from tests.accounts.wizard import (
    PASSWORD,
    page_text,
    reach_password_step,
    submit_one_time_code,
    submit_password,
)
from tests.e2e.harness import AssertAccessible, NewPage
from tests.e2e.test_activation import (
    current_step,
    letter_code,
    outbox,
    press_button,
    tab_to,
)
from tests.e2e.test_passkeys import log_out
from tests.factories import make_person, years_ago

pytestmark = pytest.mark.django_db(transaction=True)

APP = "Application d'authentification"
APP_CODE_FIELD = "Code affiché par votre application d'authentification"
QR_NAME = "QR code à scanner avec votre application"
RECOVERY_CODE = re.compile(r"^[A-Z2-9]{5}-[A-Z2-9]{5}$")
ALREADY_USED = (
    "Ce code a déjà servi : attendez que votre application en affiche un nouveau (toutes "
    "les 30 secondes), puis saisissez-le."
)


def a_fresh_step(margin: float = 3.0) -> None:
    """Sleep past the end of the current 30 s step if less than `margin` seconds of it
    remain, so that a code computed now is still the current one when it is typed."""
    remaining = totp.PERIOD - time.time() % totp.PERIOD
    if remaining < margin:
        time.sleep(remaining + 0.2)


def app_code(secret: str, *, steps_ago: int = 0) -> str:
    """What the app shows now (or `steps_ago` steps ago)."""
    return str(pyotp.TOTP(secret).at(time.time() - steps_ago * totp.PERIOD))


def activate_with_app(person: InsuredPerson) -> tuple[str, list[str]]:
    """Activation with the app, without the browser (Django's test client): its secret and
    the ten recovery codes. The previous step's code sets it up, so the current one has
    not served yet."""
    client = Client()
    reach_password_step(client, person)
    submit_password(client)
    chosen = client.post(reverse("activation:contact"), {"channel": CodeChannel.TOTP})
    assert chosen["Location"] == reverse("activation:otp")
    secret = totp.unseal(OneTimeCode.objects.latest("pk").destination)
    assert secret is not None
    a_fresh_step()
    done = submit_one_time_code(client, app_code(secret, steps_ago=1))
    assert done["Location"] == reverse("activation:authenticators")
    step_4 = page_text(client.get(reverse("activation:authenticators")))
    codes = re.findall(r"<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>", step_4)
    assert len(codes) == 10
    return secret, codes


def reach_the_code_page(
    page: Page, assert_accessible: AssertAccessible, person: InsuredPerson
) -> None:
    """Connexion → PATIENT → Matricule, mot de passe et code → matricule and password: the
    page asking for the app's code (nothing is sent, so nothing to resend)."""
    page.get_by_role("link", name="Connexion").first.click()
    page.get_by_role("link", name="PATIENT", exact=True).click()
    expect(page).to_have_url(re.compile(r"/connexion/#patient$"))
    expect(page.get_by_role("heading", name="Connexion au DSP")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Matricule, mot de passe et code").click()
    assert_accessible(page)
    page.get_by_role("textbox", name="Matricule").fill(person.matricule)
    page.get_by_role("textbox", name="Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Etape suivante").click()
    expect(page).to_have_url(re.compile(r"/connexion/patient/code/$"))
    expect(
        page.get_by_role("heading", name="Code de votre application d'authentification")
    ).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(
        "Saisissez le code à 6 chiffres affiché par votre application d'authentification."
        " Sans elle, saisissez l'un de vos codes de secours."
    )
    expect(page.get_by_role("button", name="Renvoyer le code")).to_have_count(0)
    expect(page.get_by_role("button", name="Recommencer")).to_be_visible()
    expect(page.get_by_role("img", name=QR_NAME)).to_have_count(0)  # set up already
    expect(page.get_by_role("textbox", name=APP_CODE_FIELD)).to_be_visible()
    assert_accessible(page)


def submit_the_code(page: Page, code: str) -> None:
    page.get_by_role("textbox", name=APP_CODE_FIELD).fill(code)
    page.get_by_role("button", name="Valider").click()


def expect_services(page: Page, assert_accessible: AssertAccessible, person: InsuredPerson) -> None:
    expect(page).to_have_url(re.compile(r"/mes-services/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes services eSanté")
    expect(page.get_by_text(f"Bienvenue, {person.full_name}.")).to_be_visible()
    assert_accessible(page)


def expect_refused(page: Page, assert_accessible: AssertAccessible, message: str) -> None:
    """The code page again, the refusal in its error summary and under the field."""
    expect(page).to_have_url(re.compile(r"/connexion/patient/code/$"))
    expect(page.get_by_role("alert")).to_contain_text(message)
    expect(page.locator(".field-errors")).to_have_text(message)
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Mes services eSanté")
    assert_accessible(page)


def test_activation_with_the_app_in_the_browser(
    page: Page, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    carla = make_person("Carla", "Schmit", years_ago(52), sex="F")
    issue_letters([carla], actor="test")

    page.goto("/activation/")
    assert_accessible(page)
    page.get_by_label("En cochant cette case, j'accepte les Conditions Générales").check()
    page.get_by_role("button", name="Activer mon compte").click()
    expect(current_step(page)).to_contain_text("Code d'activation")
    assert_accessible(page)
    page.get_by_role("textbox", name="Matricule").fill(carla.matricule)
    page.get_by_role("textbox", name="Code d'activation").fill(
        letter_code(new_page, carla.matricule)
    )
    page.get_by_role("textbox", name="Chiffres du captcha").fill("PASSED")
    page.get_by_role("button", name="Etape suivante").click()
    expect(current_step(page)).to_contain_text("Mot de passe")
    assert_accessible(page)
    page.get_by_role("textbox", name="Votre mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("textbox", name="Confirmation de votre mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Etape suivante").click()

    # Step 3: the choice, with the keyboard alone (Tab into the group, then the arrows).
    expect(current_step(page)).to_contain_text("Sécurisation de votre compte")
    choice = page.get_by_role("group", name="Code à usage unique à recevoir par")
    expect(choice.get_by_role("radio")).to_have_count(3)
    mobile = choice.get_by_role("radio", name="Mobile")
    app = choice.get_by_role("radio", name=APP)
    expect(mobile).to_be_checked()
    assert_accessible(page)
    tab_to(page, mobile)
    page.keyboard.press("ArrowDown")
    expect(choice.get_by_role("radio", name="E-mail")).to_be_checked()
    expect(page.get_by_role("textbox", name="E-mail")).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(app).to_be_checked()
    expect(app).to_be_focused()
    expect(page.get_by_role("textbox", name="Mobile")).to_be_hidden()
    expect(page.get_by_role("textbox", name="E-mail")).to_be_hidden()
    expect(page.get_by_text("scannez le QR code affiché")).to_be_visible()
    assert_accessible(page)
    press_button(page, page.get_by_role("button", name="Valider"))

    # The QR code page: the test is the app, it reads the key printed by hand.
    expect(current_step(page)).to_contain_text("Sécurisation de votre compte")
    expect(page.get_by_text("Associez votre application d'authentification")).to_be_visible()
    expect(page.get_by_role("img", name=QR_NAME)).to_be_visible()
    expect(page.locator("svg.totp-qr title")).to_have_text(QR_NAME)
    shown = page.locator("code.totp-secret")
    expect(shown).to_have_text(re.compile(r"^[A-Z2-7]{4}( [A-Z2-7]{4})+$"))
    expect(page.get_by_role("button", name="Recommencer")).to_be_visible()
    expect(page.get_by_role("button", name="Renvoyer le code")).to_have_count(0)
    code_field = page.get_by_role("textbox", name=APP_CODE_FIELD)
    expect(code_field).to_be_visible()
    assert_accessible(page)
    secret = shown.inner_text().replace(" ", "")
    assert len(secret) == 32
    a_fresh_step()
    code_field.fill(app_code(secret))
    page.get_by_role("button", name="Valider").click()

    # Step 4: the ten recovery codes, shown once.
    expect(current_step(page)).to_contain_text("Autres moyens d'authentification")
    recovery = page.get_by_role("region", name="Vos 10 codes de secours")
    expect(recovery.get_by_role("heading", name="Vos 10 codes de secours")).to_be_visible()
    expect(recovery).to_contain_text("ils ne seront plus jamais affichés")
    codes_shown = recovery.locator("code")
    expect(codes_shown).to_have_count(10)
    assert_accessible(page)
    codes = codes_shown.all_inner_texts()
    assert all(RECOVERY_CODE.match(code) for code in codes), codes
    assert len(set(codes)) == 10
    page.reload()
    expect(current_step(page)).to_contain_text("Autres moyens d'authentification")
    expect(page.get_by_role("region", name="Vos 10 codes de secours")).to_have_count(0)
    expect(page.get_by_text(codes[0])).to_have_count(0)
    assert_accessible(page)

    # Step 5.
    page.get_by_role("button", name="Etape suivante").click()
    expect(current_step(page)).to_contain_text("Confirmation")
    expect(page.get_by_text("Votre activation est terminée !")).to_be_visible()
    assert_accessible(page)

    account = Account.objects.get(person=carla)
    assert account.code_channel == CodeChannel.TOTP
    assert totp.unseal(account.totp_secret) == secret
    assert (account.phone, account.email) == ("", "")
    assert RecoveryCode.objects.filter(account=account, used_at__isnull=True).count() == 10
    # Nothing was sent but the letter: the app's codes never travel.
    assert [message["channel"] for message in outbox(new_page)] == ["letter"]


def test_login_with_the_apps_code(page: Page, assert_accessible: AssertAccessible) -> None:
    david = make_person("David", "Hoffmann", years_ago(38), sex="M")
    secret, _codes = activate_with_app(david)

    page.goto("/")
    reach_the_code_page(page, assert_accessible, david)
    a_fresh_step()
    submit_the_code(page, app_code(secret))
    expect_services(page, assert_accessible, david)

    event = AuditEvent.objects.filter(event_type=EventType.LOGIN_SUCCEEDED, person=david).first()
    assert event is not None
    assert RecoveryCode.objects.filter(account__person=david, used_at__isnull=False).count() == 0


def test_login_with_a_recovery_code_once(page: Page, assert_accessible: AssertAccessible) -> None:
    emma = make_person("Emma", "Wagner", years_ago(29), sex="F")
    _secret, codes = activate_with_app(emma)

    page.goto("/")
    reach_the_code_page(page, assert_accessible, emma)
    submit_the_code(page, codes[4])
    expect_services(page, assert_accessible, emma)
    used = RecoveryCode.objects.filter(account__person=emma, used_at__isnull=False)
    assert used.count() == 1

    # The same recovery code a second time: refused like a wrong code.
    log_out(page, assert_accessible)
    reach_the_code_page(page, assert_accessible, emma)
    submit_the_code(page, codes[4])
    expect_refused(
        page,
        assert_accessible,
        "Ce code est incorrect. Vérifiez l'heure de votre téléphone et saisissez le code "
        f"affiché à l'instant. Il vous reste {MAX_FAILED_ATTEMPTS - 1} essais.",
    )
    assert used.count() == 1


def test_the_same_app_code_is_refused_the_second_time(
    page: Page, assert_accessible: AssertAccessible
) -> None:
    felix = make_person("Félix", "Muller", years_ago(61), sex="M")
    secret, codes = activate_with_app(felix)

    page.goto("/")
    reach_the_code_page(page, assert_accessible, felix)
    a_fresh_step()
    step = int(time.time() // totp.PERIOD)
    code = app_code(secret)
    submit_the_code(page, code)
    expect_services(page, assert_accessible, felix)

    log_out(page, assert_accessible)
    reach_the_code_page(page, assert_accessible, felix)
    submit_the_code(page, code)
    expect_refused(page, assert_accessible, ALREADY_USED)
    # Still the step of the first login, or the next (one step of drift): the refusal is
    # the code's reuse, not its age.
    assert int(time.time() // totp.PERIOD) - step <= 1

    # The page still works after the refusal (a recovery code, not to wait for the next
    # step).
    submit_the_code(page, codes[0])
    expect_services(page, assert_accessible, felix)
