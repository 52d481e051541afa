"""Fixtures of the demo service's tests (the harness is in harness.py).

The service imports no Django. pytest-django still sets Django up for the whole run (the
repository's tests/conftest.py imports models), but these tests touch none of it: the
repository's autouse fixtures, which adjust Django's settings, cache and language, are
replaced here by ones that do nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.servers import OidcProvider
from tests.teleconsultation_demo.harness import Platform, Service, running_service, serving, url_of


@pytest.fixture
def _documents_in_tmp() -> None:
    """Replaces the repository's: no Django settings here."""


@pytest.fixture
def _fresh_shared_cache() -> None:
    """Replaces the repository's: no Django cache here."""


@pytest.fixture
def _language_of_each_test_its_own() -> None:
    """Replaces the repository's: no Django translation here."""


@pytest.fixture
def platform(oidc_process: OidcProvider) -> Iterator[Platform]:
    """oidc_process: the repository's one mock process for the run (tests/conftest.py)."""
    platform = Platform(mock=oidc_process)
    with serving(platform) as server:
        platform.url = url_of(server)
        yield platform


@pytest.fixture
def service(platform: Platform) -> Iterator[Service]:
    with running_service(platform.url) as service:
        yield service


@pytest.fixture
def browser() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session
