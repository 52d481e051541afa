from __future__ import annotations

from esante.registry.models import InsuredPerson


def test_named_people_are_distinct(alice: InsuredPerson, bob: InsuredPerson) -> None:
    assert alice.matricule != bob.matricule
    assert alice.esante_id != bob.esante_id
