"""What a service learns of a person: a pairwise subject identifier of its own, and only
the claims of the scopes it was registered for and the person consented to.

- `openid`: `sub` (pairwise: the same person has unrelated identifiers at two services);
- `profile`: given and family names, birth date (a professional: names, profession);
- `matricule`: the national identification number — for the services registered for it;
- `fhirUser`: the FHIR resource of who logged in: a professional's Practitioner, a
  person's Patient, an assistant's RelatedPerson;
- SMART scopes (esante.services.smart): what an app may read or write through the FHIR
  API, for the patient chosen at launch (`patient/…`) or as the professional (`user/…`).

An assistant acting for a person (`actor`): the claims are the person's, and `act` names
the assistant by their own pairwise identifier at this service (RFC 8693 4.1)."""

from __future__ import annotations

import base64
import datetime
import hashlib
from typing import TYPE_CHECKING, Any

from authlib.oidc.core import UserInfo
from django.utils.translation import gettext_lazy as _

from esante.professionals.models import Professional
from esante.provider.models import Consent
from esante.records.models import CareRecord
from esante.registry.models import InsuredPerson
from esante.services import smart
from esante.services.models import Service

if TYPE_CHECKING:
    from esante.provider.server import Subject

# What each scope shares, in the words of the consent page and *Services connectés*.
SHARED_BY_SCOPE = {
    "openid": [_("un identifiant qui vous est propre auprès de ce service")],
    "profile": [_("vos nom et prénom"), _("votre date de naissance")],
    "matricule": [_("votre matricule (numéro d'identification national)")],
    "offline_access": [_("un accès qui dure après votre déconnexion, jusqu'à son retrait")],
    "fhirUser": [_("qui vous êtes pour le service : votre fiche de patient ou de professionnel")],
    smart.LAUNCH_PATIENT: [
        _("le dossier choisi en ouvrant le service : le vôtre, ou celui que vous assistez")
    ],
}

# What a SMART scope lets an app do (the consent page), by context and right.
SMART_READ = {
    "patient": _(
        "lire le DSP choisi : le patient, ses documents et leurs fichiers, ses assistants, "
        "ses consentements et son historique des accès"
    ),
    "user": _("lire, comme vous, les DSP de vos patients, selon les règles du patient"),
}
SMART_WRITE = {
    "patient": _("écrire dans le DSP choisi"),
    "user": _("ajouter, en votre nom, des documents aux DSP de vos patients et les remplacer"),
}


def shared_by(scope: str) -> list[str]:
    """What the consent page says of `scope`."""
    parsed = smart.parse(scope)
    if parsed is None:
        return [str(text) for text in SHARED_BY_SCOPE.get(scope, [])]
    texts = []
    if parsed.rights & {"r", "s"}:
        texts.append(str(SMART_READ[parsed.context]))
    if parsed.rights & {"c", "u", "d"}:
        texts.append(str(SMART_WRITE[parsed.context]))
    return texts


# Said of every service on the consent page: the ID token's `acr` and `amr`.
LEVEL_SHARED = _("le niveau de votre connexion (mot de passe et code, clé d'accès ou LuxTrust)")


def subject_of(
    service: Service, person: InsuredPerson | None, professional: Professional | None
) -> str:
    """The pairwise `sub`: a hash of the service's own salt and the identity's row, stable
    for as long as the service is registered, and meaningless to any other service."""
    if person is not None:
        identity = f"person:{person.pk}"
    elif professional is not None:
        identity = f"professional:{professional.pk}"
    else:  # pragma: no cover - every code and token names one
        raise ValueError("no identity")
    digest = hashlib.sha256(f"{service.pairwise_salt}\0{identity}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def granted_scopes(scope: str, service: Service) -> list[str]:
    """The scopes asked that the service is registered for (a SMART resource scope also
    when a registered one covers it)."""
    return [each for each in scope.split() if smart.covered_by(each, service.scopes)]


def fhir_user(subject: Subject, issuer_url: str) -> str:
    """The FHIR resource of who logged in (`fhirUser`)."""
    base = f"{issuer_url}/fhir"
    if subject.professional is not None:
        return f"{base}/Practitioner/{subject.professional.public_id}"
    if subject.actor is not None:
        assistant = (
            subject.actor.assisted_records.filter(
                record__person=subject.person, ended_at__isnull=True
            )
            .only("public_id")
            .first()
        )
        return f"{base}/RelatedPerson/{assistant.public_id}" if assistant else ""
    record = CareRecord.objects.filter(person=subject.person).only("public_id").first()
    return f"{base}/Patient/{record.public_id}" if record else ""


def user_info(subject: Subject, scope: str, *, issuer_url: str) -> UserInfo:
    service = subject.service
    scopes = set(granted_scopes(scope, service))
    found: dict[str, Any] = {
        "sub": subject_of(service, subject.person, subject.professional),
    }
    if subject.person is not None:
        person = subject.person
        if "profile" in scopes:
            found.update(
                given_name=person.first_name,
                family_name=person.last_name,
                birthdate=person.birth_date.isoformat(),
            )
        if "matricule" in scopes:
            found["matricule"] = person.matricule
        if subject.actor is not None:
            found["act"] = {"sub": subject_of(service, subject.actor, None)}
        if "fhirUser" in scopes and (user := fhir_user(subject, issuer_url)):
            found["fhirUser"] = user
    elif subject.professional is not None:
        professional = subject.professional
        if "profile" in scopes:
            found.update(
                given_name=professional.first_name,
                family_name=professional.last_name,
                profession=professional.profession,
            )
        if "fhirUser" in scopes:
            found["fhirUser"] = fhir_user(subject, issuer_url)
    return UserInfo(found)


def shared_claims(subject: Subject, scope: str) -> list[str]:
    return sorted(user_info(subject, scope, issuer_url="").keys())


def record_shared(subject: Subject, scope: str, at: datetime.datetime) -> None:
    """*Services connectés* says what each service last received, and when."""
    consents = Consent.objects.covering(
        subject.service,
        person=subject.person,
        actor=subject.actor,
        professional=subject.professional,
    )
    consents.update(last_shared_at=at, last_shared_claims=shared_claims(subject, scope))
