"""{% field form.name %}: a form field with its label, help and errors; {% widget
form.name %}: its input alone. Both written in Python (esante.portal.fields).

{% field form.password1 describedby="password-rule" %} also links the input to an element
of the page that describes it; {% field form.mobile required=True %} marks as required a
field the form requires only in some cases."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

from esante.portal.fields import field_html, widget_html

register = template.Library()


@register.simple_tag
def field(bound_field: BoundField, describedby: str = "", required: bool = False) -> SafeString:
    return field_html(bound_field, describedby=describedby, required=required)


@register.simple_tag
def widget(bound_field: BoundField) -> SafeString:
    return widget_html(bound_field)
