"""A Jinja2 template (esante/portal/jinja.py) prints what the same Django template prints:
the same escaping, the same translations, the same dates, in French, German and English.
The record page's own cases are in tests/records/test_record_page_html.py."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.template import Context, Template, engines
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from esante.portal import jinja

LANGUAGES = ["fr", "de", "en"]
# A Saturday at 23:30 in UTC is already Sunday in Luxembourg (TIME_ZONE).
LATE = datetime.datetime(2026, 3, 7, 23, 30, tzinfo=datetime.UTC)

VALUES: dict[str, Any] = {
    "text": 'O\'Brien <b>"Zoé"</b> & fils',
    "safe": mark_safe("<em>déjà sûr</em>"),
    "lazy": gettext_lazy("Documents"),
    "number": 1234567,
    "decimal": 12.5,
    "day": datetime.date(2026, 3, 8),
    "moment": LATE,
    "nothing": None,
    "yes": True,
}


def both(django_source: str, jinja_source: str, **values: Any) -> tuple[str, str]:
    return (
        Template("{% load i18n %}" + django_source).render(Context(values)),
        engines["jinja2"].from_string(jinja_source).render(values),
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", list(VALUES))
def test_a_value_is_printed_and_escaped_as_django_prints_it(language: str, name: str) -> None:
    with override(language):
        django_page, jinja_page = both(
            '<p title="{{ value }}">{{ value }}</p>',
            '<p title="{{ value }}">{{ value }}</p>',
            value=VALUES[name],
        )
    assert jinja_page == django_page


def test_the_escaping_is_django_s_not_markupsafe_s() -> None:
    page = engines["jinja2"].from_string("{{ text }}").render({"text": VALUES["text"]})
    assert page == "O&#x27;Brien &lt;b&gt;&quot;Zoé&quot;&lt;/b&gt; &amp; fils"


def test_a_missing_value_prints_nothing_as_in_django() -> None:
    page = engines["jinja2"].from_string("[{{ nowhere }}|{{ a.b.c }}]").render({})
    assert page == Template("[{{ nowhere }}|{{ a.b.c }}]").render(Context()) == "[|]"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_fixed_text_is_translated_and_not_escaped(language: str) -> None:
    with override(language):
        django_page, jinja_page = both(
            '{% translate "Don d\'organes" %}|'
            "<input placeholder=\"{% translate 'par exemple Mère' %}\">|"
            '{% translate "Afficher" as label %}{{ label }}',
            '{{ _("Don d\'organes") }}|'
            '<input placeholder="{{ _("par exemple Mère") }}">|'
            '{% set label = _("Afficher") %}{{ label }}',
        )
    assert jinja_page == django_page
    if language == "de":
        assert "Organspende" in jinja_page


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", ["text", "safe", "number", "moment"])
def test_the_values_put_in_a_translation_are_escaped_as_blocktranslate_escapes_them(
    language: str, name: str
) -> None:
    with override(language):
        django_page, jinja_page = both(
            "{% blocktranslate trimmed with name=value %}"
            "Dossier de Soins Partagé de {{ name }}{% endblocktranslate %}",
            "{% trans trimmed name=value %}Dossier de Soins Partagé de {{ name }}{% endtrans %}",
            value=VALUES[name],
        )
    assert jinja_page == django_page


@pytest.mark.parametrize("language", LANGUAGES)
def test_trimmed_joins_the_lines_as_django_does_and_the_date_filter_is_local(
    language: str,
) -> None:
    with override(language):
        django_page, jinja_page = both(
            '{% blocktranslate trimmed with opened=moment|date:"DATE_FORMAT" %}\n'
            "    Ce DSP est ouvert depuis le {{ opened }}. Il ne contient encore aucun document.\n"
            "  {% endblocktranslate %}",
            '{% trans trimmed opened=moment|date("DATE_FORMAT") %}\n'
            "    Ce DSP est ouvert depuis le {{ opened }}. Il ne contient encore aucun document.\n"
            "  {% endtrans %}",
            moment=LATE,
        )
    assert jinja_page == django_page
    assert "8" in jinja_page  # Sunday the 8th in Luxembourg, not Saturday the 7th


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("age", [1, 7])
def test_a_plural_is_chosen_as_django_chooses_it(language: str, age: int) -> None:
    values = {"age": age, "last": "Muller", "first": "Zoé"}
    with override(language):
        django_page, jinja_page = both(
            "{% blocktranslate trimmed count age=age with last_name=last first_name=first %}\n"
            "  {{ last_name }} {{ first_name }} ({{ age }} an)\n"
            "{% plural %}\n"
            "  {{ last_name }} {{ first_name }} ({{ age }} ans)\n"
            "{% endblocktranslate %}",
            "{% trans trimmed age=age, last_name=last, first_name=first %}\n"
            "  {{ last_name }} {{ first_name }} ({{ age }} an)\n"
            "{% pluralize age %}\n"
            "  {{ last_name }} {{ first_name }} ({{ age }} ans)\n"
            "{% endtrans %}",
            **values,
        )
    assert jinja_page == django_page


def test_a_percent_sign_is_written_as_in_blocktranslate_and_twice_in_a_call() -> None:
    django_page, jinja_page = both(
        "{% blocktranslate %}100 % remboursé{% endblocktranslate %}",
        '{% trans %}100 % remboursé{% endtrans %}|{{ _("100 %% remboursé") }}',
    )
    assert jinja_page == f"{django_page}|{django_page}" == "100 % remboursé|100 % remboursé"


def test_a_fixed_translation_is_kept_per_language() -> None:
    with override("de"):
        german = jinja.gettext("Documents")
    with override("en"):
        english = jinja.gettext("Documents")
    assert (german, english) == ("Dokumente", "Documents")


def test_the_templates_end_with_their_last_line_break() -> None:
    assert engines["jinja2"].from_string("<p>x</p>\n").render({}) == "<p>x</p>\n"
