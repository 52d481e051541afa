"""The demo data `make run` loads: who is in it, and that loading twice changes nothing."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from esante.demo.persons import load_demo
from esante.notifications.models import OutboundMessage
from esante.registry import matricule
from esante.registry.models import ActivationLetter, InsuredPerson

pytestmark = pytest.mark.django_db


def test_demo_people_have_valid_matricules_and_one_letter_each_when_alive() -> None:
    people, issued = load_demo()

    assert len(people) >= 20
    living = [person for person in people if person.date_of_death is None]
    assert issued == len(living)
    assert all(matricule.is_valid(person.matricule) for person in people)
    assert InsuredPerson.objects.get(matricule="1918090138700").public_label == (
        "D Filat (6393913168)"
    )
    for person in living:
        assert ActivationLetter.objects.filter(person=person).count() == 1
        assert OutboundMessage.objects.filter(person=person, channel="letter").count() == 1
    for person in people:
        if person.date_of_death is not None:
            assert not ActivationLetter.objects.filter(person=person).exists()


def test_demo_minors_live_with_their_parents_and_one_turns_18_within_30_days() -> None:
    people, _ = load_demo()
    today = timezone.localdate()

    minors = [person for person in people if person.is_minor]
    assert len({person.age() for person in minors}) >= 3
    adult_addresses = {
        (person.address_line1, person.postal_code) for person in people if not person.is_minor
    }
    for minor in minors:
        assert (minor.address_line1, minor.postal_code) in adult_addresses, minor
    soon_adult = [
        person
        for person in minors
        if person.age() == 17 and person.age(on=today + datetime.timedelta(days=30)) == 18
    ]
    assert soon_adult


def test_loading_the_demo_twice_keeps_what_is_there() -> None:
    load_demo()
    codes = set(ActivationLetter.objects.values_list("code_hash", flat=True))
    messages = OutboundMessage.objects.count()

    people, issued = load_demo()

    assert issued == 0
    assert InsuredPerson.objects.count() == len(people)
    assert set(ActivationLetter.objects.values_list("code_hash", flat=True)) == codes
    assert OutboundMessage.objects.count() == messages
