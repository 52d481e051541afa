from __future__ import annotations

import pytest

from esante.registry.models import InsuredPerson
from tests.factories import make_person, years_ago


@pytest.fixture
def alice(db: None) -> InsuredPerson:
    return make_person("Alice", "Martin", years_ago(41), sex="F")


@pytest.fixture
def bob(db: None) -> InsuredPerson:
    return make_person("Bob", "Martin", years_ago(44), sex="M")


@pytest.fixture
def charlie(db: None) -> InsuredPerson:
    return make_person("Charlie", "Weber", years_ago(30), address_line1="3, place d'Armes")


@pytest.fixture
def lea(db: None) -> InsuredPerson:
    """Alice and Bob's daughter, a minor."""
    return make_person("Léa", "Martin", years_ago(9), sex="F")
