"""The demo's identity provider: `make run` starts oidc-provider-mock as "LuxTrust (démo)".

Each adult demo person is a predefined user of the mock (one click on its login form),
with the claims a national provider would send: the national identification number in
`matricule`, and the strength of the authentication in `acr` and `amr`. Each active demo
professional is one too ("pro.paul.reding"), with their national code in
`professional_code` (the demo provider's `professional_code_claim`) and the same strength:
*Connexion* → *PROFESSIONNEL* → *LuxTrust (démo)*.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
import unicodedata

from django.conf import settings

from esante.professionals.models import Professional
from esante.registry.models import InsuredPerson

# What a strong login at the demo provider vouches for.
STRONG_ACR = "urn:luxtrust:loa:substantial"
STRONG_AMR = ["hwk", "pin"]


def demo_subject(person: InsuredPerson) -> str:
    """A readable subject: "hector.doe-rita"."""
    text = f"{person.first_name}.{person.last_name}".lower().replace(" ", "-")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def professional_subject(professional: Professional) -> str:
    """A readable subject, apart from the persons': "pro.paul.reding"."""
    names = (professional.first_name, professional.last_name)
    text = ".".join(["pro", *("-".join(name.lower().split()) for name in names if name.strip())])
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def demo_users() -> list[dict[str, object]]:
    persons: list[dict[str, object]] = [
        {
            "sub": demo_subject(person),
            "matricule": person.matricule,
            "name": person.full_name,
            "acr": STRONG_ACR,
            "amr": STRONG_AMR,
        }
        for person in InsuredPerson.objects.filter(date_of_death__isnull=True).order_by(
            "last_name", "first_name"
        )
        if not person.is_minor
    ]
    professionals: list[dict[str, object]] = [
        {
            "sub": professional_subject(professional),
            "professional_code": professional.national_code,
            "name": professional.full_name,
            "acr": STRONG_ACR,
            "amr": STRONG_AMR,
        }
        for professional in Professional.objects.filter(is_active=True).order_by(
            "last_name", "first_name"
        )
    ]
    return persons + professionals


# How long the mock may take to listen: it imports Flask and more, on a busy machine.
START_TIMEOUT = 60  # seconds


class DemoProviderDidNotStart(Exception):
    pass


def start_demo_provider() -> subprocess.Popen[bytes] | None:
    """Start the mock provider when the demo uses its default one, and return once it
    listens: the portal sends people to it as soon as it serves. None when the demo uses
    none; DemoProviderDidNotStart when it should run but does not listen."""
    port = settings.ESANTE_DEMO_OIDC_PORT
    configured = [entry.get("issuer") for entry in settings.ESANTE_OIDC_PROVIDERS]
    if not settings.ESANTE_DEMO or settings.ESANTE_DEMO_OIDC_ISSUER not in configured:
        return None
    if importlib.util.find_spec("oidc_provider_mock") is None:
        return None
    command = [
        sys.executable,
        "-m",
        # oidc_provider_mock, without its libraries' deprecation warnings.
        "esante.demo.run_identity_provider",
        "--port",
        str(port),
        "--require-nonce",
        "true",
    ]
    for user in demo_users():
        command += ["--user-claims", json.dumps(user)]
    if not port_is_free(port):
        raise DemoProviderDidNotStart(
            f"LuxTrust (démo) ne démarre pas : le port {port} est déjà pris "
            "(ESANTE_DEMO_OIDC_PORT)."
        )
    process = subprocess.Popen(command)  # noqa: S603 - our own interpreter and arguments
    if wait_until_listening(process, port):
        return process
    process.kill()
    process.wait()
    raise DemoProviderDidNotStart(
        f"LuxTrust (démo) n'écoute pas sur le port {port} après {START_TIMEOUT} s."
    )


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_until_listening(process: subprocess.Popen[bytes], port: int) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False
