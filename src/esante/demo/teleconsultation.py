"""The demo's relying party: `make run` registers « Téléconsultation (démo) » with the
platform's OpenID Connect provider (as `esante create-service` would) and starts it, a
separate process on its own port (the package teleconsultation_demo, on Authlib's Flask
client), which *Mes services* leads to. Its client secret is drawn at each start and handed
to the process only."""

from __future__ import annotations

import importlib.util
import os
import secrets
import subprocess
import sys

from django.conf import settings

from esante.demo.identity_provider import port_is_free, wait_until_listening
from esante.provider import actions, middleware
from esante.provider.server import hash_client_secret
from esante.services.models import Service

CLIENT_ID = "teleconsultation-demo"


class DemoServiceDidNotStart(Exception):
    pass


def base_url() -> str:
    return f"http://localhost:{settings.ESANTE_DEMO_TELECONSULTATION_PORT}"


def register(secret: str) -> Service:
    base = base_url()
    service = Service.objects.filter(client_id=CLIENT_ID).first() or Service(client_id=CLIENT_ID)
    created = service.pk is None
    service.name = "Téléconsultation (démo)"
    service.key = "teleconsultation"
    service.description = (
        "Service de démonstration d'un partenaire : il reçoit vos nom et prénom, votre date de "
        "naissance, le niveau de votre connexion et un identifiant qui lui est propre."
    )
    service.redirect_uris = [f"{base}/retour"]
    service.post_logout_redirect_uris = [f"{base}/au-revoir"]
    service.backchannel_logout_uri = f"{base}/backchannel-logout"
    service.start_url = f"{base}/"
    service.scopes = ["openid", "profile"]
    service.client_secret_hash = hash_client_secret(secret)
    actions.register_service(service, actor="command:serve", created=created)
    middleware.forget()
    return service


def start_demo_service() -> subprocess.Popen[bytes] | None:
    """Register the demo service and start it; None when its package is not installed."""
    if importlib.util.find_spec("teleconsultation_demo") is None:
        return None
    port = settings.ESANTE_DEMO_TELECONSULTATION_PORT
    if not port_is_free(port):
        raise DemoServiceDidNotStart(
            f"Téléconsultation (démo) ne démarre pas : le port {port} est déjà pris "
            "(ESANTE_DEMO_TELECONSULTATION_PORT)."
        )
    secret = secrets.token_urlsafe(32)
    register(secret)
    environment = {
        **os.environ,
        "TELECONSULTATION_ISSUER": settings.ESANTE_OIDC_ISSUER,
        "TELECONSULTATION_CLIENT_ID": CLIENT_ID,
        "TELECONSULTATION_CLIENT_SECRET": secret,
        "TELECONSULTATION_PORT": str(port),
        "TELECONSULTATION_BASE_URL": base_url(),
    }
    command = [sys.executable, "-m", "teleconsultation_demo"]
    process = subprocess.Popen(command, env=environment)  # noqa: S603 - our own interpreter
    if wait_until_listening(process, port):
        return process
    process.kill()
    process.wait()
    raise DemoServiceDidNotStart(f"Téléconsultation (démo) n'écoute pas sur le port {port}.")
