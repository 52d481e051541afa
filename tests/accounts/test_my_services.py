"""*Mes services eSanté*, what a patient sees after logging in: the DSP and *Mon compte*,
then the platform's other services, open ones as links and the others plainly not open
yet (guide: « bientôt au carnet de vaccination électronique et à la prescription
digitale »)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from esante.accounts.models import Account
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import log_in
from tests.accounts.wizard import activate
from tests.portal.html import HtmlPage, parse

pytestmark = pytest.mark.django_db

EMAIL = "alice@example.lu"


@pytest.fixture
def alice_client(alice: InsuredPerson) -> Client:
    client = Client()
    activate(Client(), alice, EMAIL)
    log_in(client, Account.objects.get(person=alice))
    return client


def tile(page: HtmlPage, name: str) -> list[str]:
    """The tile whose heading starts with `name`: its heading's text and its links."""
    (heading,) = [h3 for h3 in page.find_all("h3") if h3.text.startswith(name)]
    card = heading.parent
    assert card is not None and card.tag == "li"
    links = [a.attrs["href"] for a in page.find_all("a") if card in a.enclosing()]
    return [heading.text, *links]


def test_services_not_open_yet_are_no_links_and_say_so(alice_client: Client) -> None:
    page = parse(alice_client.get(reverse("patient:services")).content)

    for name in ("Carnet de vaccination électronique", "Prescription électronique"):
        # The status is in the heading itself: read with it when moving by headings.
        assert tile(page, name) == [f"{name} Bientôt disponible"]
    assert "Ce service n'est pas encore ouvert" in page.text
    assert not [button for button in page.find_all("button") if button.inside("main")]


def test_open_services_are_links_to_their_sites(alice_client: Client, settings: Any) -> None:
    settings.ESANTE_REIMBURSEMENT_URL = "https://remboursement.example.lu/"
    settings.ESANTE_VACCINATION_URL = "https://cve.example.lu/"
    page = parse(alice_client.get(reverse("patient:services")).content)

    assert tile(page, "Mon DSP") == ["Mon DSP", reverse("records:mine")]
    assert tile(page, "Remboursement accéléré") == [
        "Remboursement accéléré",
        "https://remboursement.example.lu/",
    ]
    assert tile(page, "Carnet de vaccination électronique") == [
        "Carnet de vaccination électronique",
        "https://cve.example.lu/",
    ]
    assert tile(page, "Prescription électronique") == [
        "Prescription électronique Bientôt disponible"
    ]


def test_the_public_services_page_marks_the_same_services_as_coming(
    client: Client, settings: Any
) -> None:
    settings.ESANTE_PRESCRIPTION_URL = "https://prescription.example.lu/"
    page = parse(client.get(reverse("portal:services")).content)
    headings = [h3.text for h3 in page.find_all("h3")]

    assert "Carnet de vaccination électronique Bientôt disponible" in headings
    assert "Prescription électronique" in headings
    assert "Remboursement accéléré" in headings
