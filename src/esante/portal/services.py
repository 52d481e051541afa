"""The eSanté services other than the DSP, as *Mes services eSanté* and the public
services page list them: open ones are links to their sites (single sign-on later), and a
service without an address is not open yet and says so (« Bientôt disponible »)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class OtherService:
    key: str
    name: str | Promise
    url: str

    @property
    def is_open(self) -> bool:
        return bool(self.url)


def other_services() -> list[OtherService]:
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
