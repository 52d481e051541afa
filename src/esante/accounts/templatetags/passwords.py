"""`{% password_rule %}`: the password rule in force, as the password pages print it."""

from __future__ import annotations

from django import template

from esante.accounts.authenticators.passwords import rule_text

register = template.Library()


@register.simple_tag
def password_rule() -> str:
    return rule_text()
