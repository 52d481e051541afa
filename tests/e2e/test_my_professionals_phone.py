"""*Mes professionnels*, its search and the *Historique des accès* with professionals on a
phone, at 390 and 320 px, in French and German: stacked rows, no sideways scrolling,
every action in view, and no accessibility violation."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from esante.professionals.models import Profession
from esante.records.care import (
    block_professional,
    declare_relationship,
    grant_relationship,
    open_emergency_access,
)
from esante.records.models import Capacity, CareRecord
from tests.accounts.conftest import activation_settings
from tests.e2e.harness import AssertAccessible, NewPage
from tests.e2e.test_narrow_tables import assert_in_view, assert_no_sideways_scrolling, phone_page_of
from tests.factories import make_person
from tests.records.care_people import make_professional
from tests.records.conftest import logged_in

__all__ = ["activation_settings"]

pytestmark = pytest.mark.django_db(transaction=True)


def record_with_professionals() -> tuple[Client, CareRecord]:
    """Marc's DSP: a physician granted, a nurse who declared with a long reason, a
    physician who opened it in an emergency, a blocked physiotherapist."""
    marc = make_person("Marc", "Schmit", datetime.date(1980, 6, 14), sex="M")
    client = logged_in(marc, "marc@example.lu")
    record = CareRecord.objects.get(person=marc)
    paul = make_professional()
    nurse = make_professional(
        "Anne-Catherine",
        "Schmit-Hoffmann-Wagner",
        Profession.NURSE,
        "Esch-sur-Alzette",
        practice_name="Soins infirmiers à domicile du Sud et du Centre",
    )
    urgentist = make_professional("Luc", "Feltgen", specialty="Médecine d'urgence")
    physio = make_professional("Tom", "Reuter", Profession.PHYSIOTHERAPIST, "Ettelbruck")
    grant_relationship(record, paul, actor=marc, capacity=Capacity.OWNER, ip_address=None)
    declare_relationship(
        nurse,
        matricule=marc.matricule,
        last_name=marc.last_name,
        reason="Pansements quotidiens après l'intervention chirurgicale du genou gauche",
        ip_address=None,
    )
    open_emergency_access(
        urgentist,
        matricule=marc.matricule,
        last_name=marc.last_name,
        reason="Perte de connaissance sur la voie publique",
        ip_address=None,
    )
    block_professional(record, physio, actor=marc, capacity=Capacity.OWNER, ip_address=None)
    return client, record


@pytest.mark.parametrize(
    ("locale", "heading"),
    [("fr-FR", "Professionnels ayant accès"), ("de-DE", "Gesundheitsfachkräfte mit Zugriff")],
)
def test_my_professionals_and_the_journal_fit_a_phone(
    new_page: NewPage,
    live_server: LiveServer,
    assert_accessible: AssertAccessible,
    locale: str,
    heading: str,
) -> None:
    client, record = record_with_professionals()
    if locale != "fr-FR":
        client.cookies["django_language"] = locale[:2]
    for width in (390, 320):
        page = phone_page_of(
            client, new_page, live_server, locale=locale, viewport={"width": width, "height": 740}
        )

        page.goto(reverse("records:professionals", args=[record.public_id]))
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        rows = page.locator("#acces table").first.locator("tbody tr")
        expect(rows).to_have_count(2)
        emergencies = page.locator("#acces table[aria-labelledby=pros-emergency] tbody tr")
        expect(emergencies).to_have_count(1)
        assert_in_view(emergencies.locator("a").first)
        assert_no_sideways_scrolling(page)
        for row in rows.all():
            assert_in_view(row.locator("button").first)
            assert_in_view(row.locator("a").first)
        assert_in_view(page.locator("#bloques tbody button"))
        assert_in_view(page.locator("#urgence button"))
        assert_accessible(page)

        page.goto(reverse("records:professional_search", args=[record.public_id]) + "?nom=schmit")
        found = page.locator("#resultats tbody tr")
        expect(found).to_have_count(1)
        assert_no_sideways_scrolling(page)
        for link in found.locator("a").all():
            assert_in_view(link)
        assert_accessible(page)

        page.goto(reverse("records:journal", args=[record.public_id]))
        emergency = page.locator("tr.journal-emergency")
        expect(emergency).to_have_count(1)
        assert_no_sideways_scrolling(page)
        assert_in_view(emergency.locator("strong"))
        assert_accessible(page)
