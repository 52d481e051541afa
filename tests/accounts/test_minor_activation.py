"""A parent activating a minor's account: once step 1 knows whose account it is, every
page up to step 5 names the child (« Activation du compte eSanté d'Emma »), never
« votre compte » or « votre mot de passe »; an adult's pages are unchanged."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django.urls import reverse

from esante.registry.models import InsuredPerson
from tests.accounts.wizard import (
    issue_letter,
    last_one_time_code,
    page_text,
    reach_password_step,
    start,
    submit_code,
    submit_contact,
    submit_one_time_code,
    submit_password,
)
from tests.factories import make_person, years_ago
from tests.portal.html import HtmlPage, parse

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

PARENT_EMAIL = "alice@example.lu"


@pytest.fixture
def emma(db: None) -> InsuredPerson:
    return make_person("Emma", "Martin", years_ago(7), sex="F")


def page(response: Response) -> HtmlPage:
    assert response.status_code in (200, 400), response.status_code
    return parse(response.content)


def title_and_heading(found: HtmlPage, raw: str) -> tuple[str, str]:
    title = raw.split("<title>")[1].split("</title>")[0]
    (h1,) = found.find_all("h1")
    return " ".join(title.split()), h1.text


def walk(client: Client, child: InsuredPerson) -> dict[str, Response]:
    """The pages of the wizard for `child`, with the parent's e-mail, by stage."""
    pages: dict[str, Response] = {}
    reach_password_step(client, child)
    pages["code"] = client.get(reverse("activation:code"))
    pages["password"] = client.get(reverse("activation:password"))
    pages["password_refused"] = submit_password(client, "Martin 2024 soleil", "autre")
    assert submit_password(client).status_code == 302
    pages["contact"] = client.get(reverse("activation:contact"))
    assert submit_contact(client, "email", PARENT_EMAIL).status_code == 302
    pages["otp"] = client.get(reverse("activation:otp"))
    assert submit_one_time_code(client, last_one_time_code(PARENT_EMAIL)).status_code == 302
    pages["authenticators"] = client.get(reverse("activation:authenticators"))
    assert client.post(reverse("activation:authenticators")).status_code == 302
    pages["done"] = client.get(reverse("activation:done"))
    return pages


def test_every_step_names_the_child_with_french_elision(
    client: Client, emma: InsuredPerson
) -> None:
    pages = walk(client, emma)

    for stage, response in pages.items():
        raw = page_text(response)
        title, heading = title_and_heading(page(response), raw)
        assert heading == "Activation du compte eSanté d'Emma", stage
        assert "· Activation du compte eSanté d'Emma ·" in title, stage
        for wrong in (
            "de Emma",
            "Votre mot de passe",
            "à votre DSP",
            "Sécurisation de votre",
            "mieux votre compte",
        ):
            assert wrong not in raw, (stage, wrong)
    text = {stage: page(response).text for stage, response in pages.items()}
    assert "Ce compte est celui d'Emma Martin." in text["code"]
    assert "Le code d'activation d'Emma a été vérifié" in text["code"]
    assert "Le mot de passe d'Emma" in text["password"]
    assert "Confirmation du mot de passe d'Emma" in text["password"]
    assert "le nom d'Emma, son matricule ou sa date de naissance" in text["password"]
    assert (
        "Le mot de passe ne doit pas contenir le nom ou le prénom d'Emma."
        in text["password_refused"]
    )
    for stage in ("contact", "otp"):
        (step_heading,) = [h2 for h2 in page(pages[stage]).find_all("h2", id="step-heading")]
        assert step_heading.text == "Etape 3 Sécurisation du compte d'Emma"
        (current,) = page(pages[stage]).find_all("li", **{"aria-current": "step"})
        assert current.text.startswith("3 Sécurisation du compte d'Emma")
    assert "recevoir le code à usage unique d'Emma" in text["contact"]
    assert "LuxTrust protègent mieux le compte d'Emma." in text["contact"]
    assert "Afin de sécuriser le compte d'Emma" in text["otp"]
    assert "associer un produit LuxTrust au compte d'Emma." in text["authenticators"]
    assert "L'activation du compte d'Emma est terminée !" in text["done"]
    assert "Vous pouvez vous connecter au DSP d'Emma." in text["done"]
    assert "introduisez le numéro de matricule d'Emma" in text["done"]


def test_a_name_starting_with_a_consonant_keeps_de(client: Client, lea: InsuredPerson) -> None:
    reach_password_step(client, lea)
    found = page(client.get(reverse("activation:password")))

    (h1,) = found.find_all("h1")
    assert h1.text == "Activation du compte eSanté de Léa"
    assert "Le mot de passe de Léa" in found.text


def test_an_adults_pages_still_say_mon_compte(client: Client, alice: InsuredPerson) -> None:
    reach_password_step(client, alice)
    found = page(client.get(reverse("activation:password")))

    (h1,) = found.find_all("h1")
    assert h1.text == "ACTIVATION DE MON COMPTE ESANTÉ"
    assert "Votre mot de passe" in found.text


def test_step_1_says_mon_compte_until_the_letter_is_known(
    client: Client, emma: InsuredPerson
) -> None:
    start(client)
    found = page(client.get(reverse("activation:code")))
    (h1,) = found.find_all("h1")
    assert h1.text == "ACTIVATION DE MON COMPTE ESANTÉ"

    response = submit_code(client, emma.matricule, issue_letter(emma))
    assert response["Location"] == reverse("activation:password")
