"""`esante serve` in demo mode (`make run`): the portal's (esante.portal), and before
gunicorn starts, the demo data, LuxTrust (démo) and the addresses to try them at."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.management import call_command

from esante.demo import fhir_app, teleconsultation
from esante.demo.identity_provider import DemoProviderDidNotStart, start_demo_provider
from esante.demo.teleconsultation import DemoServiceDidNotStart, start_demo_service
from esante.portal.management.commands import serve


class Command(serve.Command):
    def before_serving(self, portal: str) -> None:
        super().before_serving(portal)
        if not settings.ESANTE_DEMO:  # the test suite has the demo app with the mode off
            return
        # The demo's letters are audited and logged as any others, but a newcomer reads the
        # start-up output: the table of people, not one log line per letter.
        with logger_quieted("esante"):
            call_command("load_demo", stdout=self.stdout)
        try:
            if start_demo_provider() is not None:
                issuer = settings.ESANTE_DEMO_OIDC_ISSUER
                self.stdout.write(f"LuxTrust (démo) : {issuer}/ (oidc-provider-mock)")
                self.stdout.write(
                    "Professionnels : Connexion → PROFESSIONNEL → LuxTrust (démo), "
                    "par exemple pro.paul.reding"
                )
        except DemoProviderDidNotStart as error:
            self.stderr.write(str(error))
        try:
            with logger_quieted("esante"):  # its registration's audit line
                started = start_demo_service()
            if started is not None:
                self.stdout.write(
                    f"Téléconsultation (démo) : {teleconsultation.base_url()}/ "
                    "(un service qui s'ouvre avec le compte eSanté : Mes services eSanté)"
                )
        except DemoServiceDidNotStart as error:
            self.stderr.write(str(error))
        with logger_quieted("esante"):
            fhir_app.register()
        self.stdout.write(
            f"API FHIR : {portal}fhir/metadata (l'appli « {fhir_app.CLIENT_ID} », docs/api.md)"
        )
        self.stdout.write(f"Courriers, e-mails et SMS : {portal}dev/outbox/")
        if settings.CAPTCHA_TEST_MODE:
            self.stdout.write("Captcha en mode test : la réponse PASSED est acceptée.")


@contextmanager
def logger_quieted(name: str) -> Iterator[None]:
    """`name`'s INFO lines left out for the time of the block (its warnings kept)."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
