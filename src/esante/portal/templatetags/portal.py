"""Template tags of the portal frame that work without a request context.

The 500 and CSRF-failure pages are rendered without context processors, yet their
frame prints the helpdesk contacts: this tag reads them from the settings directly.

`elides`: whether French writes « d'Emma » rather than « de Zoé » (esante.portal.elision),
for a template that prints a sentence naming someone in its two French spellings.

`frame_urls` and `icon` give what every page prints the same way, worked out once per
process instead of on every page (issue 16: the frame's URLs were eight `reverse()`
calls a page, each icon a template of its own).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django import template
from django.conf import settings
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeString, mark_safe

from esante.portal.elision import elides
from esante.portal.helpdesk import HelpdeskContacts, helpdesk_contacts

register = template.Library()


@register.simple_tag
def helpdesk() -> HelpdeskContacts:
    return helpdesk_contacts()


@dataclass(frozen=True)
class FrameUrls:
    """The pages the frame links on every page (its menu, footer and session actions)."""

    home: str
    activation: str
    services: str
    teleconsultation: str
    login_choice: str
    my_services: str
    logout: str
    set_language: str


@register.simple_tag
def frame_urls() -> FrameUrls:
    """The frame's URLs: the same for every request of a URLconf and script prefix."""
    return _frame_urls(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@functools.cache
def _frame_urls(script_prefix: str, urlconf: object) -> FrameUrls:
    # reverse() reads the same prefix and URLconf as the key: they are the current ones.
    return FrameUrls(
        home=reverse("portal:home"),
        activation=reverse("portal:activation"),
        services=reverse("portal:services"),
        teleconsultation=reverse("portal:teleconsultation"),
        login_choice=reverse("portal:login_choice"),
        my_services=reverse("patient:services"),
        logout=reverse("patient:logout"),
        set_language=reverse("set_language"),
    )


@register.simple_tag
def icon(name: str) -> SafeString:
    """The icon portal/icons/<name>.svg, as `{% include %}` printed it; read once per
    process (at every use with DEBUG on, so that an edited icon shows)."""
    if settings.DEBUG:
        return _icon.__wrapped__(name)
    return _icon(name)


@functools.cache
def _icon(name: str) -> SafeString:
    return mark_safe(get_template(f"portal/icons/{name}.svg").render())  # noqa: S308 - our file


@register.filter(name="elides")
def elides_filter(first_name: str) -> bool:
    """{% if person.first_name|elides %}…d'{{ name }}…{% else %}…de {{ name }}…{% endif %}"""
    return elides(first_name)


@register.simple_tag(takes_context=True)
def frame_visitor(context: template.Context) -> str:
    """Whom the frame's footer is for: "patient" (an account logged in), "professional"
    (request.professional, set by esante.practice) or "visitor"; a page rendered without
    a request (the 500 page) is a visitor's."""
    request = context.get("request")
    patient = getattr(request, "patient", None)
    if patient is not None and patient.account is not None:
        return "patient"
    if getattr(request, "professional", None) is not None:
        return "professional"
    return "visitor"
