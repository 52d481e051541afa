"""The demo's identity provider: `make run` starts oidc-provider-mock as "LuxTrust (démo)".

Each adult demo person is a predefined user of the mock (one click on its login form),
with the claims a national provider would send: the national identification number in
`matricule`, and the strength of the authentication in `acr` and `amr`.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import unicodedata

from django.conf import settings

from esante.registry.models import InsuredPerson


def demo_subject(person: InsuredPerson) -> str:
    """A readable subject: "hector.doe-rita"."""
    text = f"{person.first_name}.{person.last_name}".lower().replace(" ", "-")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def demo_users() -> list[dict[str, object]]:
    return [
        {
            "sub": demo_subject(person),
            "matricule": person.matricule,
            "name": person.full_name,
            "acr": "urn:luxtrust:loa:substantial",
            "amr": ["hwk", "pin"],
        }
        for person in InsuredPerson.objects.filter(date_of_death__isnull=True).order_by(
            "last_name", "first_name"
        )
        if not person.is_minor
    ]


def start_demo_provider() -> subprocess.Popen[bytes] | None:
    """Start the mock provider when the demo uses its default one; None otherwise."""
    port = settings.ESANTE_DEMO_OIDC_PORT
    issuer = f"http://127.0.0.1:{port}"
    configured = [entry.get("issuer") for entry in settings.ESANTE_OIDC_PROVIDERS]
    if not settings.ESANTE_DEMO or issuer not in configured:
        return None
    if importlib.util.find_spec("oidc_provider_mock") is None:
        return None
    command = [
        sys.executable,
        "-m",
        "oidc_provider_mock",
        "--port",
        str(port),
        "--require-nonce",
        "true",
    ]
    for user in demo_users():
        command += ["--user-claims", json.dumps(user)]
    return subprocess.Popen(command)  # noqa: S603 - our own interpreter and arguments
