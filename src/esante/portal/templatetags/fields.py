"""{% field form.name %}: a form field with its label, help and errors; {% widget
form.name %}: its input alone. Both written in Python (esante.portal.fields)."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

from esante.portal.fields import field_html, widget_html

register = template.Library()


@register.simple_tag
def field(bound_field: BoundField) -> SafeString:
    return field_html(bound_field)


@register.simple_tag
def widget(bound_field: BoundField) -> SafeString:
    return widget_html(bound_field)
