"""*Mes services eSanté*'s two reads (the services it lists, the new letter its holder can
cancel) are plain SQL written once (esante.raw_sql.Related, issue 16): they read what the
ORM's queries read, in the same order, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime
from typing import cast

import pytest
from django.utils import timezone

from esante.accounts.actions import _told_request_read
from esante.portal.services import LISTED_PARAMETERS, _listed_read, other_services
from esante.registry.models import LetterRequest
from esante.services.models import Audience, Service
from tests.factories import make_person

pytestmark = pytest.mark.django_db


def service(name: str, **fields: object) -> Service:
    values: dict[str, object] = {
        "name": name,
        "redirect_uris": ["http://127.0.0.1:9/retour"],
        "scopes": ["openid"],
        "start_url": "http://127.0.0.1:9/",
    }
    return Service.objects.create(**(values | fields))


def test_the_services_listed_are_the_orms_in_its_order() -> None:
    service("Zèbre")
    service("Agenda", description="Vos rendez-vous", key="teleconsultation")
    service("Inactif", is_active=False)
    service("Sans page", start_url="")
    service("Pour les professionnels", audience=Audience.PROFESSIONALS)
    service("Bilan")

    read = cast("list[Service]", _listed_read().rows(LISTED_PARAMETERS))

    expected = list(Service.objects.listed())
    assert [s.pk for s in read] == [s.pk for s in expected]
    assert [s.name for s in read] == ["Agenda", "Bilan", "Zèbre"]
    for got, want in zip(read, expected, strict=True):
        for field in Service._meta.concrete_fields:
            assert getattr(got, field.attname) == getattr(want, field.attname), field.name
    listed = {entry.name: entry for entry in other_services()}
    assert listed["Agenda"].single_sign_on and listed["Agenda"].key == "teleconsultation"
    assert "Inactif" not in listed and "Sans page" not in listed


def test_the_told_request_is_the_last_one_not_cancelled() -> None:
    alice, bob = make_person(), make_person("Bob", "Martin")
    now = timezone.now()
    hour = datetime.timedelta(hours=1)
    LetterRequest.objects.create(person=alice, requested_at=now - 3 * hour, notified_at=now)
    told = LetterRequest.objects.create(person=alice, requested_at=now - 2 * hour, notified_at=now)
    LetterRequest.objects.create(person=alice, requested_at=now - hour)  # not told
    LetterRequest.objects.create(person=alice, requested_at=now, notified_at=now, cancelled_at=now)
    LetterRequest.objects.create(person=bob, requested_at=now, notified_at=now)

    read = _told_request_read().first([alice.pk])

    assert isinstance(read, LetterRequest) and read.pk == told.pk
    assert read.requested_at == told.requested_at and read.requested_at.tzinfo is not None
    assert _told_request_read().first([make_person("Charlie", "Weber").pk]) is None
