"""Services are registered, never hard-coded (`esante create-service`), listed in *Mes
services* and on the superviseur's page; the signing keys rotate (`esante rotate-keys`)
and a retired key stays published until what it signed has expired."""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from PIL import Image

from esante.audit.models import AuditEvent, EventType
from esante.keyed_hash import keyed_hash
from esante.provider import keys
from esante.provider.models import SigningKey
from esante.provider.server import SECRET_KIND
from esante.services.models import ACR_HIGH, Service
from tests.helpdesk.conftest import agent, agent_client, superviseur, superviseur_client
from tests.provider.conftest import register
from tests.records.conftest import alice_client

__all__ = ["agent", "agent_client", "alice_client", "superviseur", "superviseur_client"]


def create_service(*args: str) -> str:
    out = io.StringIO()
    call_command("create_service", *args, stdout=out)
    return out.getvalue()


def png(path: Path, size: int = 32) -> str:
    Image.new("RGB", (size, size), "teal").save(path, "PNG")
    return str(path)


@pytest.mark.django_db
def test_create_service_prints_the_secret_once_and_keeps_its_hash(tmp_path: Path) -> None:
    printed = create_service(
        "Carnet de vaccination",
        "--redirect-uri",
        "https://vaccination.example.lu/retour",
        "--scope",
        "profile",
        "--level",
        ACR_HIGH,
        "--key",
        "vaccination",
        "--start-url",
        "https://vaccination.example.lu/",
        "--refresh-tokens",
        "--logo",
        png(tmp_path / "logo.png"),
    )
    service = Service.objects.get()
    secret = printed.split("client_secret: ")[1].split()[0]
    assert f"client_id: {service.client_id}" in printed
    assert service.client_secret_hash == keyed_hash(SECRET_KIND, secret)
    assert secret not in str(Service.objects.values().get())
    assert service.scopes == ["openid", "profile"]
    assert service.level == ACR_HIGH
    assert service.refresh_tokens
    assert bytes(service.logo).startswith(b"\x89PNG")
    event = AuditEvent.objects.get(event_type=EventType.SERVICE_REGISTERED)
    assert event.actor == "command:create-service"
    assert secret not in str(event.details)

    # Updated in place, the secret kept unless asked for a new one.
    again = create_service(
        "Carnet de vaccination électronique",
        "--client-id",
        service.client_id,
        "--redirect-uri",
        "https://vaccination.example.lu/retour",
    )
    assert "client_secret" not in again
    service.refresh_from_db()
    assert service.name == "Carnet de vaccination électronique"
    assert service.client_secret_hash == keyed_hash(SECRET_KIND, secret)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "uri",
    [
        "http://vaccination.example.lu/retour",
        "javascript:alert(1)",
        "https://x.example/#f",
        "retour",
    ],
)
def test_create_service_refuses_unsafe_redirect_uris(uri: str) -> None:
    with pytest.raises(CommandError):
        create_service("Service", "--redirect-uri", uri)
    assert not Service.objects.exists()


@pytest.mark.django_db
def test_create_service_refuses_a_logo_that_is_no_png(tmp_path: Path) -> None:
    fake = tmp_path / "logo.png"
    fake.write_bytes(b"<svg/>")
    big = tmp_path / "big.png"
    Image.effect_noise((400, 400), 100).save(big, "PNG")
    for path in (fake, big):
        with pytest.raises(CommandError):
            create_service("S", "--redirect-uri", "https://s.example/r", "--logo", str(path))


@pytest.mark.django_db
def test_a_public_client_has_no_secret() -> None:
    printed = create_service("App", "--redirect-uri", "http://127.0.0.1/retour", "--public")
    assert "client_secret" not in printed
    assert Service.objects.get().token_endpoint_auth_method == "none"


def test_mes_services_opens_the_registered_service(alice_client: Client) -> None:
    register(key="teleconsultation", name="Téléconsultation (démo)")
    register(name="Un service sans place dans le guide", start_url="https://autre.example/")
    register(name="Pas listé sans adresse", start_url="")
    page = alice_client.get(reverse("patient:services")).content.decode()
    assert 'href="http://127.0.0.1:9/"' in page
    assert "Téléconsultation (démo)" in page
    assert "Un service sans place dans le guide" in page
    assert "Pas listé sans adresse" not in page
    assert "S'ouvre avec votre compte eSanté" in page


def test_the_superviseur_lists_the_services_and_an_agent_may_not(
    superviseur_client: Client, agent_client: Client
) -> None:
    register()
    page = superviseur_client.get(reverse("provider:supervisor_services"))
    assert page.status_code == 200
    assert "Téléconsultation (test)" in page.content.decode()
    assert "secret" not in page.content.decode().lower()
    assert agent_client.get(reverse("provider:supervisor_services")).status_code == 403


@pytest.mark.django_db
def test_rotate_keys_keeps_the_old_key_published_until_its_tokens_expire(settings: Any) -> None:
    first = keys.signing_key()
    assert [key["kid"] for key in keys.public_jwks()["keys"]] == [first.kid]
    call_command("rotate_keys", stdout=io.StringIO())
    second = keys.signing_key()
    assert second.kid != first.kid
    published = {key["kid"] for key in keys.public_jwks()["keys"]}
    assert published == {first.kid, second.kid}
    assert all("d" not in key for key in keys.public_jwks()["keys"])  # public halves only
    assert AuditEvent.objects.filter(event_type=EventType.SIGNING_KEY_ROTATED).exists()

    lifetime = keys.lifetime_of_signed_tokens()
    assert lifetime > datetime.timedelta(seconds=settings.ESANTE_OIDC_ID_TOKEN_SECONDS)
    with time_machine.travel(lifetime + datetime.timedelta(minutes=1)):
        assert [key["kid"] for key in keys.public_jwks()["keys"]] == [second.kid]


@pytest.mark.django_db
def test_the_private_key_is_sealed_at_rest() -> None:
    keys.signing_key()
    stored = SigningKey.objects.get().private_jwk
    assert '"d"' not in stored and "RSA" not in stored


@pytest.mark.django_db
def test_a_client_secret_survives_a_rotation_of_the_hmac_key(settings: Any) -> None:
    from esante.provider.server import Client as ProviderClient
    from esante.provider.server import hash_client_secret

    service = register(client_secret_hash=hash_client_secret("le-secret"))
    old_key = settings.ESANTE_CODE_HMAC_KEY
    settings.ESANTE_CODE_HMAC_KEY = "une-nouvelle-cle-hmac-de-test-" + "z" * 20
    settings.ESANTE_CODE_HMAC_KEY_FALLBACKS = [old_key]
    assert ProviderClient(service).check_client_secret("le-secret")
    service.refresh_from_db()
    assert service.client_secret_hash == hash_client_secret("le-secret")  # the new key's
    settings.ESANTE_CODE_HMAC_KEY_FALLBACKS = []
    assert ProviderClient(service).check_client_secret("le-secret")
    assert not ProviderClient(service).check_client_secret("un-autre")
