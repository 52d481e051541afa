"""The eSanté services other than the DSP, as *Mes services eSanté* and the public
services page list them: the guide's four, each opened by the service registered for it
with the platform's OpenID Connect provider (esante.services: the person arrives logged
in), else by its site's address in the settings; a service without either is not open yet
and says so (« Bientôt disponible »). Services registered for no entry of the guide
follow them."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from esante import raw_sql
from esante.services.models import Audience, Service


@dataclass(frozen=True)
class OtherService:
    key: str
    name: str | Promise
    url: str
    # Registered with the provider: opened with the eSanté account (single sign-on).
    single_sign_on: bool = False
    description: str = ""

    @property
    def is_open(self) -> bool:
        return bool(self.url)


def other_services() -> list[OtherService]:
    registered = cast("list[Service]", _listed_read().rows(LISTED_PARAMETERS))
    for_guide = {service.key: service for service in registered if service.key}
    listed = []
    for entry in guide_services():
        service = for_guide.get(entry.key)
        if service is not None:
            entry = _opened_by(service, entry.key)
        listed.append(entry)
    used = {service.pk for service in for_guide.values() if service.key in _GUIDE_KEYS}
    listed.extend(
        _opened_by(service, service.key) for service in registered if service.pk not in used
    )
    return listed


# Service.objects.listed() for patients (tests/portal/test_mes_services_reads.py compares them),
# written once: read at every login (*Mes services*).
LISTED_PARAMETERS = (True, Audience.PATIENTS.value, "")


@functools.cache
def _listed_read() -> raw_sql.Related:
    return raw_sql.Related(
        Service,
        "",
        where="{0.is_active} = %s AND {0.audience} = %s AND {0.start_url} <> %s ORDER BY {0.name}",
    )


def _opened_by(service: Service, key: str) -> OtherService:
    return OtherService(key, service.name, service.start_url, True, service.description)


_GUIDE_KEYS = ("reimbursement", "vaccination", "prescription", "teleconsultation")


def guide_services() -> list[OtherService]:
    """The guide's four, from the settings only (the public services page: no query)."""
    return [
        OtherService(
            "reimbursement", _("Remboursement accéléré"), settings.ESANTE_REIMBURSEMENT_URL
        ),
        OtherService(
            "vaccination", _("Carnet de vaccination électronique"), settings.ESANTE_VACCINATION_URL
        ),
        OtherService(
            "prescription", _("Prescription électronique"), settings.ESANTE_PRESCRIPTION_URL
        ),
        OtherService(
            "teleconsultation", _("Téléconsultation"), settings.ESANTE_TELECONSULTATION_URL
        ),
    ]
