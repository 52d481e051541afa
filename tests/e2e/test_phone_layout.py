"""The guide's pages on a phone: reflow at 320 and 390 CSS px, the first screen at 390×844.

One walk through the guide in one page (home, Connexion, the CGU, the five activation
steps with the code page, login with its code page, Mes services, Mon DSP with its
documents, the Assistants add row and « Télécharger mon dossier », Mon compte with its
sessions, password recovery, the error pages). At each page, both widths are set on the
same page: nothing may scroll sideways (WCAG 1.4.10: `scrollWidth <= innerWidth`), each
form's primary action must be fully in view once scrolled to, and at 390×844 each wizard
step's first field must be on the first screen. Every problem of the walk is listed at
the end, not just the first.
axe-core runs at 390 on the main pages.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from playwright.sync_api import Locator, Page, ViewportSize, expect

from esante import ratelimit
from esante.records.actions import add_document
from esante.records.models import Capacity, CareRecord, Confidentiality
from esante.registry.letters import issue_letters
from tests.accounts.conftest import activation_settings  # noqa: F401 - autouse
from tests.accounts.wizard import PASSWORD, activate
from tests.e2e.harness import AssertAccessible, NewPage
from tests.e2e.test_activation import current_step, letter_code, one_time_code
from tests.factories import make_person, years_ago

pytestmark = pytest.mark.django_db(transaction=True)

NARROWEST = 320
PHONE: ViewportSize = {"width": 390, "height": 844}
ALICE_EMAIL = "alice@example.lu"
BOB_EMAIL = "bob@example.lu"


@dataclass
class PhoneWalk:
    """Checks each page of the walk at both widths and keeps every problem found."""

    page: Page
    assert_accessible: AssertAccessible
    problems: list[str] = field(default_factory=list)
    first_field_tops: dict[str, float] = field(default_factory=dict)

    def check(
        self,
        name: str,
        *,
        primary: Locator | None = None,
        first_field: Locator | None = None,
        axe: bool = False,
    ) -> None:
        page = self.page
        for width in (NARROWEST, PHONE["width"]):
            page.set_viewport_size({"width": width, "height": PHONE["height"]})
            page.evaluate("window.scrollTo(0, 0)")
            sizes = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            if sizes[0] > sizes[1]:
                self.problems.append(
                    f"{name} at {width}px: scrolls sideways ({sizes[0]} > {sizes[1]})"
                    f" because of {self.widest(width)}; {self.without_tables()}"
                )
            if first_field is not None and width == PHONE["width"]:
                bottom = self.measure(name, first_field)
                if bottom > PHONE["height"]:
                    self.problems.append(
                        f"{name}: the first field is below the first screen"
                        f" (y = {self.first_field_tops[name]:.0f})"
                    )
            if primary is not None:
                primary.scroll_into_view_if_needed()
                box = primary.bounding_box()
                assert box is not None, f"{name}: no primary action"
                # Scrolled to, the button may end a fraction of a pixel past the edge.
                inside = (
                    box["x"] >= 0
                    and box["x"] + box["width"] <= width + 1
                    and box["y"] >= -1
                    and box["y"] + box["height"] <= PHONE["height"] + 1
                )
                if not inside:
                    self.problems.append(
                        f"{name} at {width}px: the primary action is cut off ({box})"
                    )
        if axe:
            self.assert_accessible(page)

    def measure(self, name: str, field: Locator) -> float:
        """Where `field` starts on the page's first screen at 390×844; where it ends."""
        self.page.set_viewport_size(PHONE)
        self.page.evaluate("window.scrollTo(0, 0)")
        box = field.bounding_box()
        assert box is not None, f"{name}: no first field"
        self.first_field_tops[name] = box["y"]
        return box["y"] + box["height"]

    def without_tables(self) -> str:
        """Whether the page would fit without its tables (stacked on phones by their own
        styles), to tell a table's overflow from the frame's."""
        fits: bool = self.page.evaluate(
            """() => {
                const tables = [...document.querySelectorAll('table')];
                tables.forEach(table => { table.style.display = 'none'; });
                const fits = document.documentElement.scrollWidth <= window.innerWidth;
                tables.forEach(table => { table.style.display = ''; });
                return fits;
            }"""
        )
        return "fits without its tables" if fits else "too wide even without its tables"

    def widest(self, width: int) -> str:
        """The outermost elements that reach past the viewport, to say where to look."""
        found: list[str] = self.page.evaluate(
            """width => {
                const out = [];
                for (const element of document.body.querySelectorAll('*')) {
                    const right = element.getBoundingClientRect().right;
                    if (right > width + 0.5 && !out.some(o => o.element.contains(element))) {
                        out.push({element, right});
                    }
                }
                return out.slice(0, 3).map(({element, right}) =>
                    `<${element.tagName.toLowerCase()} class="${element.className}">`
                    + ` « ${element.textContent.trim().slice(0, 30)} »`
                    + ` (right ${Math.round(right)})`);
            }""",
            width,
        )
        return ", ".join(found) or "nothing visible"


def first_control(page: Page) -> Locator:
    """The step's first field or button (step 4 offers buttons and a passkey's name)."""
    return page.locator(
        ".wizard-panel :is(input:not([type=hidden]), select, textarea, button):visible"
    ).first


def pdf_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("analyse.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")


def test_every_page_of_the_guide_reflows_on_a_phone(
    page: Page, new_page: NewPage, assert_accessible: AssertAccessible, settings: Any
) -> None:
    alice = make_person("Alice", "Martin", years_ago(41), sex="F")
    bob = make_person("Bob", "Martin", years_ago(44), sex="M")
    activate(Client(), bob, BOB_EMAIL)
    issue_letters([alice], actor="test")
    # As `make run` has it: the demo's LuxTrust, offered at steps 1 (« Non ») and 4 (only
    # offered here: never contacted).
    settings.ESANTE_OIDC_PROVIDERS = [
        {
            "slug": "luxtrust",
            "name": "LuxTrust (démo)",
            "issuer": "http://127.0.0.1:9",
            "client_id": "esante-demo",
            "client_secret": "demo-secret",
            "scopes": "openid profile",
            "national_id_claim": "matricule",
        }
    ]
    page.set_viewport_size(PHONE)
    walk = PhoneWalk(page, assert_accessible)

    # The portal, Connexion, the CGU.
    page.goto("/")
    walk.check("home", axe=True)
    page.goto("/connexion/")
    walk.check("Connexion", axe=True)
    page.goto("/activation/")
    walk.check(
        "activation (CGU)", primary=page.get_by_role("button", name="Activer mon compte"), axe=True
    )
    page.get_by_label("En cochant cette case, j'accepte les Conditions Générales").check()
    page.get_by_role("button", name="Activer mon compte").click()

    # The five steps.
    expect(current_step(page)).to_contain_text("Code d'activation")
    walk.check(
        "step 1",
        first_field=page.get_by_role("radio", name="Oui"),
        primary=page.get_by_role("button", name="Etape suivante"),
        axe=True,
    )
    matricule = page.get_by_role("textbox", name="Matricule")
    walk.measure("step 1, Matricule", matricule)
    # The stepper: on a phone its current step alone, as a line of text; the five on a
    # wide screen. Either way the current step is the one marked aria-current="step".
    steps = page.get_by_role("list", name="L'ACTIVATION DU COMPTE ESANTÉ S'EFFECTUE EN CINQ ÉTAPES")
    compact = steps.get_by_text("Étape 1 sur 5 — Code d'activation")
    expect(current_step(page)).to_contain_text("Étape 1 sur 5 — Code d'activation")
    expect(compact).to_be_visible()
    expect(steps.get_by_text("Mot de passe")).to_be_hidden()
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(compact).to_be_hidden()
    expect(steps.get_by_text("Mot de passe")).to_be_visible()
    expect(current_step(page)).to_contain_text("Code d'activation")
    page.set_viewport_size(PHONE)
    # Without JavaScript, the same compact frame and stepper (CSS alone).
    no_script = new_page(java_script_enabled=False, viewport=PHONE)
    no_script.goto("/activation/")
    no_script.get_by_label("En cochant cette case, j'accepte les Conditions Générales").check()
    no_script.get_by_role("button", name="Activer mon compte").click()
    expect(no_script.get_by_text("Étape 1 sur 5 — Code d'activation")).to_be_visible()
    no_script_walk = PhoneWalk(no_script, assert_accessible)
    no_script_walk.check(
        "step 1 without JavaScript", first_field=no_script.get_by_role("radio", name="Oui")
    )
    walk.problems += no_script_walk.problems
    walk.first_field_tops.update(no_script_walk.first_field_tops)
    no_script.close()

    page.get_by_role("radio", name="Non").check()
    walk.check(
        "step 1, no letter",
        primary=page.get_by_role("button", name="Demander un nouveau courrier"),
    )
    page.get_by_role("radio", name="Oui").check()
    matricule.fill(alice.matricule)
    page.get_by_role("textbox", name="Code d'activation").fill(
        letter_code(new_page, alice.matricule)
    )
    page.get_by_role("textbox", name="Chiffres du captcha").fill("PASSED")
    page.get_by_role("button", name="Etape suivante").click()

    expect(current_step(page)).to_contain_text("Mot de passe")
    walk.check(
        "step 2",
        first_field=page.get_by_role("textbox", name="Votre mot de passe", exact=True),
        primary=page.get_by_role("button", name="Etape suivante"),
        axe=True,
    )
    page.get_by_role("textbox", name="Votre mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("textbox", name="Confirmation de votre mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Etape suivante").click()

    expect(current_step(page)).to_contain_text("Sécurisation de votre compte")
    walk.check(
        "step 3",
        first_field=page.get_by_role("radio", name="E-mail"),
        primary=page.get_by_role("button", name="Valider"),
        axe=True,
    )
    page.get_by_role("radio", name="E-mail").check()
    page.get_by_role("textbox", name="E-mail").fill(ALICE_EMAIL)
    page.get_by_role("button", name="Valider").click()

    expect(page.get_by_role("status")).to_contain_text("*****@example.lu")
    code_field = page.get_by_role("textbox", name="Code reçu par SMS ou par E-mail")
    walk.check(
        "step 3, code page",
        first_field=code_field,
        primary=page.get_by_role("button", name="Valider"),
        axe=True,
    )
    code_field.fill(one_time_code(new_page, ALICE_EMAIL))
    page.get_by_role("button", name="Valider").click()

    expect(current_step(page)).to_contain_text("Autres moyens d'authentification")
    walk.check(
        "step 4",
        first_field=first_control(page),
        primary=page.get_by_role("button", name="Etape suivante"),
        axe=True,
    )
    page.get_by_role("button", name="Etape suivante").click()
    expect(page.get_by_text("Votre activation est terminée !")).to_be_visible()
    walk.check("step 5", axe=True)

    # Login, with its code page.
    page.goto("/connexion/patient/")
    walk.check(
        "login",
        first_field=page.get_by_role("textbox", name="Matricule"),
        primary=page.get_by_role("button", name="Etape suivante"),
        axe=True,
    )
    page.get_by_role("textbox", name="Matricule").fill(alice.matricule)
    page.get_by_role("textbox", name="Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Etape suivante").click()
    expect(page.get_by_role("status")).to_contain_text("*****@example.lu")
    code_field = page.get_by_role("textbox", name="Code reçu par SMS ou par E-mail")
    walk.check(
        "login, code page",
        first_field=code_field,
        primary=page.get_by_role("button", name="Valider"),
    )
    code_field.fill(one_time_code(new_page, ALICE_EMAIL))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes services eSanté")
    walk.check("Mes services", axe=True)

    # Mon DSP: the organ-donation question, the documents, the Assistants add row.
    record = CareRecord.objects.get(person=alice)
    add_document(
        record,
        actor=alice,
        capacity=Capacity.OWNER,
        upload=pdf_upload(),
        title="Analyse de sang du laboratoire d'analyses médicales",
        document_date=datetime.date(2025, 3, 14),
        confidentiality=Confidentiality.NORMAL,
    )
    page.get_by_role("link", name="Mon DSP").click()
    expect(page.get_by_role("heading", name="Déclaration de don d'organes")).to_be_visible()
    walk.check(
        "organ donation",
        primary=page.get_by_role("button", name="Enregistrer ma réponse"),
        axe=True,
    )
    page.get_by_label("Je déciderai plus tard").check()
    page.get_by_role("button", name="Enregistrer ma réponse").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Martin Alice (41 ans)")
    walk.check("Mon DSP (documents)", axe=True)
    page.get_by_role("link", name="Ajouter", exact=True).click()
    page.get_by_role("textbox", name="Numéro assuré").fill(bob.matricule)
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("radio", name=bob.public_label)).to_be_visible()
    walk.check(
        "Assistants, add row",
        primary=page.get_by_role("button", name="Confirmer l'ajout"),
        axe=True,
    )
    page.get_by_role("link", name="Télécharger mon dossier").click()
    walk.check(
        "Télécharger mon dossier",
        primary=page.get_by_role("button", name="Télécharger mon dossier"),
        axe=True,
    )

    # Mon compte, with its sessions.
    page.goto("/mon-compte/")
    walk.check("Mon compte", axe=True)
    page.get_by_role("button", name="Déconnexion").click()

    # Password recovery.
    page.goto("/mot-de-passe-oublie/")
    walk.check(
        "recovery",
        first_field=page.get_by_role("textbox", name="Matricule"),
        primary=page.get_by_role("button", name="Etape suivante"),
        axe=True,
    )
    page.get_by_role("textbox", name="Matricule").fill(alice.matricule)
    page.get_by_role("textbox", name="Chiffres du captcha").fill("PASSED")
    page.get_by_role("button", name="Etape suivante").click()
    code_field = page.get_by_role("textbox", name=re.compile("^Code reçu"))
    expect(code_field).to_be_visible()
    walk.check(
        "recovery, code page",
        first_field=code_field,
        primary=page.get_by_role("button", name=re.compile("^(Valider|Etape suivante)$")),
    )

    # The error pages.
    page.goto("/cette-page-n-existe-pas/")
    walk.check("404", axe=True)
    settings.ROOT_URLCONF = "tests.portal.error_urls"
    page.goto("/test-errors/500/")
    walk.check("500")
    page.goto("/test-errors/403/")
    walk.check("403")
    # The "try later" page (HTTP 429): the recovery's limit for Alice's matricule, reached.
    request = RequestFactory().get("/")
    while ratelimit.within_limit("recovery.request", request, key=alice.matricule):
        pass
    page.goto("/mot-de-passe-oublie/")
    page.get_by_role("textbox", name="Matricule").fill(alice.matricule)
    page.get_by_role("textbox", name="Chiffres du captcha").fill("PASSED")
    with page.expect_response(lambda response: response.request.method == "POST") as refused:
        page.get_by_role("button", name="Etape suivante").click()
    assert refused.value.status == 429
    walk.check("429", axe=True)

    # Where each first field starts (pytest -s shows it), to compare layouts.
    print("first fields at 390×844:", walk.first_field_tops)
    assert not walk.problems, "\n".join(walk.problems)
