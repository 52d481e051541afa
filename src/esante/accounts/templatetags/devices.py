"""`{{ session.user_agent|browser_name }}`: « Chrome sur Android » for a stored User-Agent."""

from __future__ import annotations

from django import template

from esante.accounts.my_account.user_agents import describe

register = template.Library()


@register.filter
def browser_name(user_agent: str) -> str:
    return describe(user_agent)
