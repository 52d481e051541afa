"""Templates compiled once per language with their fixed texts translated
(esante/portal/template_loader.py): they print what Django's own cached loader prints,
in every language, on the project's pages and on every kind of translation tag."""

from __future__ import annotations

import re
from typing import Any, cast

import pytest
from django.conf import settings as django_settings
from django.template import Context, Engine, TemplateDoesNotExist
from django.templatetags.i18n import BlockTranslateNode, TranslateNode
from django.test import Client
from django.urls import reverse
from django.utils.translation import override

from esante.portal.template_loader import FixedTranslation
from esante.records.models import CareRecord
from esante.registry.models import InsuredPerson
from tests.accounts.conftest import activation_settings
from tests.records.conftest import logged_in

__all__ = ["activation_settings"]  # the activation's settings for logged_in()

LANGUAGES = ("fr", "de", "en")
CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+(")')
JOURNAL_LINE = re.compile(r'<tr role="row"><td role="cell".*?</tr>\s*')

SOURCES = {
    "frame.html": (
        "{% load i18n %}<title>{% block title %}{% translate 'Mon DSP' %}{% endblock %}</title>"
        "<main>{% block content %}{% endblock %}</main>"
        "<footer>{% translate 'Filtrer' as label %}{{ label }}</footer>"
    ),
    "page.html": (
        "{% extends 'frame.html' %}{% load i18n %}"
        "{% block content %}"
        "<h2>{% translate 'Documents' %}</h2>"
        "<p>{% blocktranslate trimmed %}\n  Copie du dossier\n{% endblocktranslate %}</p>"
        "{% if rows %}{% for row in rows %}<i>{% translate 'Télécharger' %}</i>{% endfor %}"
        "{% else %}{% translate 'Aucun document de cette catégorie.' %}{% endif %}"
        "{% translate 'Filtrer' noop %}|{% translate 'Filtrer'|upper %}|{% translate word %}|"
        "{% translate 'Mai' context 'month name' %}|100 %|{% translate '100 %' %}|"
        "{% blocktranslate with name=who %}Dossier de Soins Partagé de {{ name }}"
        "{% endblocktranslate %}|"
        "{% blocktranslate count counter=rows|length %}{{ counter }} document"
        "{% plural %}{{ counter }} documents{% endblocktranslate %}|"
        "{% autoescape off %}{% translate '<b>Masqué</b>' %}{% endautoescape %}"
        "{% translate '<b>Masqué</b>' %}|"
        "{% language 'de' %}{% translate 'Documents' %}{% include 'part.html' %}{% endlanguage %}"
        "{% include 'part.html' %}"
        "{% endblock %}"
    ),
    "part.html": "{% load i18n %}<em>{% translate 'Catégorie' %}</em>",
}


def engine(loader: str) -> Engine:
    return Engine(
        loaders=[(loader, [("django.template.loaders.locmem.Loader", SOURCES)])],
        libraries={"i18n": "django.templatetags.i18n"},
    )


def render(engine: Engine, name: str, **context: Any) -> str:
    return engine.get_template(name).render(Context(context))


@pytest.mark.parametrize("rows", [[], [1, 2]])
def test_every_kind_of_translation_prints_what_djangos_loader_prints(rows: list[int]) -> None:
    ours = engine("esante.portal.template_loader.Loader")
    django = engine("django.template.loaders.cached.Loader")
    printed = {}
    for language in LANGUAGES:
        with override(language):
            context = {"rows": rows, "word": "Filtrer", "who": "<Alice>"}
            printed[language] = render(ours, "page.html", **context)
            assert printed[language] == render(django, "page.html", **context)
    # The languages differ, and the {% language %} block keeps its own.
    assert "Documents" in printed["fr"] and "Dokumente" in printed["de"]
    assert printed["fr"].count("Dokumente") == 1
    assert "&lt;Alice&gt;" in printed["fr"]


def test_only_the_fixed_texts_are_replaced() -> None:
    ours = engine("esante.portal.template_loader.Loader")
    with override("de"):
        page = ours.get_template("page.html")
    fixed = page.nodelist.get_nodes_by_type(FixedTranslation)
    left = page.nodelist.get_nodes_by_type(TranslateNode)
    blocks = page.nodelist.get_nodes_by_type(BlockTranslateNode)
    # 'Documents', the block of text, 'Télécharger', the empty row's text, '100 %' and
    # the markup twice; the noop, the filtered, the variable, the one with a context and
    # the one inside {% language %} are left; the blocks with a variable or a count too.
    assert len(fixed) == 7
    assert len(left) == 5
    assert len(blocks) == 2
    assert {cast("FixedTranslation", node).escaped for node in fixed} >= {
        "Dokumente",
        "Herunterladen",
    }


def test_each_language_its_own_copy_and_a_missing_template_stays_missing() -> None:
    ours = engine("esante.portal.template_loader.Loader")
    with override("fr"):
        french = ours.get_template("part.html")
        assert ours.get_template("part.html") is french
    with override("en"):
        english = ours.get_template("part.html")
    assert english is not french
    assert english.render(Context()) == "<em>Category</em>"
    for _ in range(2):
        with pytest.raises(TemplateDoesNotExist):
            ours.get_template("nowhere.html")


def plain_loader(settings: Any) -> None:
    """The project's templates through Django's own cached loader."""
    django_engine, *others = cast("list[dict[str, Any]]", django_settings.TEMPLATES)
    options = dict(django_engine["OPTIONS"])
    options["loaders"] = [("django.template.loaders.cached.Loader", options["loaders"][0][1])]
    settings.TEMPLATES = [dict(django_engine, OPTIONS=options), *others]


def pages(client: Client, paths: list[str]) -> dict[str, str]:
    printed = {}
    for language in LANGUAGES:
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
        for path in paths:
            response = client.get(path)
            printed[f"{language} {path}"] = CSRF.sub(r"\1\2", response.content.decode())
    return printed


VISITOR_PAGES = [
    "/",
    "/activation/",
    "/connexion/",
    "/connexion/patient/",
    "/teleconsultation/",
    "/services/",
    "/nulle-part/",
]


@pytest.mark.django_db
def test_the_visitors_pages_print_the_same_bytes(settings: Any) -> None:
    client = Client()
    ours = pages(client, VISITOR_PAGES)
    plain_loader(settings)
    assert pages(client, VISITOR_PAGES) == ours


@pytest.mark.django_db
def test_the_patients_pages_print_the_same_bytes(alice: InsuredPerson, settings: Any) -> None:
    client = logged_in(alice, "alice@example.lu")
    record = CareRecord.objects.get(person=alice)
    paths = [
        reverse("patient:services"),
        reverse("patient:account"),
        reverse("records:record", args=[record.public_id]),
        reverse("records:journal", args=[record.public_id]),
        reverse("records:professionals", args=[record.public_id]),
    ]
    client.get(paths[0])  # the organ-donation answer's message shown
    ours = pages(client, paths)
    assert all("</html>" in html for html in ours.values())
    plain_loader(settings)
    again = pages(client, paths)
    # The journal has grown by the pages seen since: its lines are compared apart.
    for key in ours:
        if "/historique/" in key:
            lines = set(JOURNAL_LINE.findall(ours[key]))
            assert lines and lines <= set(JOURNAL_LINE.findall(again[key]))
            ours[key], again[key] = (
                JOURNAL_LINE.sub("", ours[key]),
                JOURNAL_LINE.sub("", again[key]),
            )
    assert again == ours
