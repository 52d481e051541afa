from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from esante.registry.models import InsuredPerson
from tests.factories import make_person, years_ago
from tests.servers import OidcProvider, SmsGateway, SmtpServer


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


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpServer]:
    """A real SMTP server on loopback, with Django's SMTP backend pointed at it."""
    server = SmtpServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield server
    server.stop()


@pytest.fixture
def sms_gateway(settings: Any) -> Iterator[SmsGateway]:
    """A real HTTP SMS gateway on loopback, with the HTTP SMS backend pointed at it."""
    gateway = SmsGateway()
    gateway.start()
    settings.ESANTE_SMS_BACKEND = "http"
    settings.ESANTE_SMS_GATEWAY_URL = gateway.url
    settings.ESANTE_SMS_GATEWAY_TOKEN = "test-gateway-token"
    settings.ESANTE_SMS_GATEWAY_TIMEOUT = 2
    yield gateway
    gateway.stop()


@pytest.fixture(autouse=True)
def _documents_in_tmp(settings: Any, tmp_path: Path) -> None:
    """DSP document files of each test go to its own folder, not to var/test."""
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents")},
        },
    }


@pytest.fixture(autouse=True)
def _fresh_shared_cache(
    request: pytest.FixtureRequest, settings: Any, django_db_blocker: Any
) -> Iterator[None]:
    """With Redis, the cache outlives a test's transaction: start each test empty.

    Without Redis the cache is a table of the test database, rolled back per test; but
    a `transaction=True` test's flush only empties the models' tables, so its rows are
    deleted here after it. (Rate-limit counters are a model's rows then: esante.counters.)
    """
    from django.core.cache import cache

    if settings.REDIS_URL:
        cache.clear()
    yield
    marker = request.node.get_closest_marker("django_db")
    if not settings.REDIS_URL and marker is not None and marker.kwargs.get("transaction"):
        with django_db_blocker.unblock():
            cache.clear()


@pytest.fixture(autouse=True)
def _language_of_each_test_its_own() -> Iterator[None]:
    """A request leaves its page's language active in the thread (LocaleMiddleware does not
    undo it): the next test starts in the portal's French again, whatever ran before."""
    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def oidc_process() -> Iterator[OidcProvider]:
    """One real provider process for the whole run (it starts in about a second)."""
    provider = OidcProvider()
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def oidc_provider(oidc_process: OidcProvider, settings: Any) -> OidcProvider:
    """The provider, configured as the platform's "LuxTrust"."""
    settings.ESANTE_OIDC_PROVIDERS = [oidc_process.provider_setting()]
    return oidc_process
