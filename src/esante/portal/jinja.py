"""The Jinja2 environment of the pages whose template time the benchmarks name (issue 16).

Django's template language resolves every `{{ row.title }}` by trying a dictionary, an
attribute and an index in turn, node by node: on the record page, a third of the request's
CPU in process. Jinja2 compiles a template to Python once (the record page's content:
0.8 → 0.4 ms, docs/benchmarks.md). The frame
(portal/base.html) stays a Django template, one copy for every page: a Jinja2 template here
prints a part of a page (`records/record_content.jinja`: the record page's content),
which the Django page prints as it is.

What a Django template prints, this environment prints too, byte for byte
(`tests/portal/test_jinja.py`):

- **Escaping.** Every `{{ value }}` goes through `printed`, the environment's `finalize`:
  Django's escaping (Jinja2's own autoescaping is off, since markupsafe writes `&#39;`
  where Django writes `&#x27;`), a value already safe for Django (`SafeString`, a form's
  widget) printed as it is, a number or a date localised first, as Django prints them.
- **Translations**, the i18n extension's `{% trans %}` and `_()`, through Django's
  catalogs: a translated text is markup, as `{% translate "…" %}` of a literal is, and
  the values put in it are escaped as `{% blocktranslate %}` escapes them; `trimmed` joins
  the lines as `{% blocktranslate trimmed %}` does. Every text is formatted, as Jinja2's
  "new style" gettext does: a `%` is written as it is in `{% trans %}` (and its msgid has
  `%%`, as `{% blocktranslate %}`'s), and `%%` in `_()`. `esante makemessages` reads the
  `.jinja` templates too (`esante.portal.management.commands.makemessages`).
- **Helpers** the templates share with Django's: `icon`, `field`, `form_errors`, `url`,
  the filters `date` and `default_if_none`.
"""

from __future__ import annotations

import functools
import html
from typing import Any

import jinja2
from django.template.defaultfilters import date, default_if_none
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in django-stubs

from esante.portal.fields import field_html
from esante.portal.templatetags.portal import icon


def environment(**options: Any) -> jinja2.Environment:
    """Called by Django's Jinja2 backend (settings.TEMPLATES) with its options."""
    options.update(
        autoescape=False,  # escaped by `finalize`, as Django escapes
        finalize=printed,
        extensions=["jinja2.ext.i18n"],
        keep_trailing_newline=True,  # as Django prints a template's last line break
        # A missing value, or an attribute of one, prints nothing, with DEBUG on too.
        undefined=jinja2.ChainableUndefined,
    )
    env = jinja2.Environment(**options)  # noqa: S701 - escaped by `finalize`: Django's escape
    # What the i18n extension calls for {% trans %} and _(): the variables as keywords.
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.globals.update(
        gettext=gettext,
        _=gettext,
        ngettext=ngettext,
        icon=icon,
        field=field_html,
        form_errors=form_errors,
        url=url,
    )
    env.filters.update(date=local_date, default_if_none=default_if_none)
    return env


def local_date(value: object, format_name: str | None = None) -> str:
    """`|date("DATE_FORMAT")`: Django's filter, given the time in the current time zone
    as Django's engine gives it."""
    return date(template_localtime(value), format_name)


def printed(value: object) -> str:
    """A value as Django's engine prints it, in `{{ … }}` or `{% blocktranslate %}`: a
    text escaped unless it is safe for Django, anything else localised first (a number,
    a date). A page prints a hundred and fifty: texts go the short way, which Django's
    `escape` takes too (less its check for a lazy text)."""
    if isinstance(value, str):
        return value if isinstance(value, SafeData) else SafeString(html.escape(str(value)))
    return conditional_escape(localize(template_localtime(value)))


def gettext(message: str, **variables: object) -> SafeString:
    if not variables:
        return fixed_translation(translation.get_language(), message)
    translated = translation.gettext(message) % {
        name: printed(value) for name, value in variables.items()
    }
    return mark_safe(translated)  # noqa: S308 - our catalog's text, its values escaped


@functools.lru_cache(maxsize=4096)
def fixed_translation(language: str | None, message: str) -> SafeString:
    """A text without values, in `language` (the active one): the forty labels of a page
    looked up once per process (the catalogs are read once per process too). Bounded: a
    template that one day translates a text it was given must not grow it without end."""
    return mark_safe(translation.gettext(message) % {})  # noqa: S308 - our catalog's text


def ngettext(singular: str, plural: str, number: int, **variables: object) -> SafeString:
    translated = translation.ngettext(singular, plural, number)
    return mark_safe(  # noqa: S308 - our catalog's text, its values escaped
        translated % {name: printed(value) for name, value in variables.items()}
    )


def form_errors(form: Any) -> SafeString:
    """accounts/includes/form_errors.html, the list of what to correct in `form` (a line
    break without errors, as the `{% include %}` printed)."""
    return mark_safe(  # noqa: S308 - a Django template's output
        render_to_string("accounts/includes/form_errors.html", {"form": form})
    )


def url(name: str, *args: object) -> str:
    """`{% url name arg… %}`."""
    return reverse(name, args=args)
