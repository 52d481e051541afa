"""The helpdesk contacts the guide prints on every page, letter and error page."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class HelpdeskContacts:
    phone: str
    email: str
    form_url: str

    @property
    def phone_uri(self) -> str:
        """`(+352) 27 12 50 18 33` → `tel:+3522712501833`: digits only (RFC 3966)."""
        return "tel:+" + "".join(c for c in self.phone if c.isdigit())

    @property
    def form_label(self) -> str:
        """The form's address as the guide prints it: `www.esante.lu/helpdesk`."""
        return self.form_url.removeprefix("https://").removeprefix("http://").rstrip("/")


def helpdesk_contacts() -> HelpdeskContacts:
    return HelpdeskContacts(
        phone=settings.ESANTE_HELPDESK_PHONE,
        email=settings.ESANTE_HELPDESK_EMAIL,
        form_url=settings.ESANTE_HELPDESK_FORM_URL,
    )
