"""Template tags of the portal frame that work without a request context.

The 500 and CSRF-failure pages are rendered without context processors, yet their
frame prints the helpdesk contacts: this tag reads them from the settings directly.
"""

from __future__ import annotations

from django import template

from esante.portal.helpdesk import HelpdeskContacts, helpdesk_contacts

register = template.Library()


@register.simple_tag
def helpdesk() -> HelpdeskContacts:
    return helpdesk_contacts()
