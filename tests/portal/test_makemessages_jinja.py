"""`esante makemessages` reads the Jinja2 templates too: their messages reach the DE and EN
catalogues, and every one of them is translated there."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import polib
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from esante.portal.management.commands.makemessages import Message, jinja_messages

SOURCE = Path(__file__).resolve().parents[2] / "src" / "esante"
LANGUAGES = ["de", "en"]

needs_gettext = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("xgettext", "msguniq", "msgmerge", "msgattrib")),
    reason="makemessages needs GNU gettext's tools (Debian: gettext)",
)

HEADER = r"""msgid ""
msgstr ""
"Project-Id-Version: esante\n"
"Language: de\n"
"MIME-Version: 1.0\n"
"Content-Type: text/plain; charset=UTF-8\n"
"Content-Transfer-Encoding: 8bit\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"
"""

TEMPLATE = """\
{# Translators: the title of the record page #}
<h1>{{ _("Mon dossier") }}</h1>
<p>{% trans trimmed name=person.name %}
  Bonjour {{ name }},
  voici votre dossier.
{% endtrans %}</p>
<p>{% trans count=documents|length %}{{ count }} document{% pluralize %}{{ count }} documents\
{% endtrans %}</p>
"""


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Path:
    """An app as makemessages meets one: its locale directory, its Jinja2 templates; the
    command run from the directory above it, with no LOCALE_PATHS of the project's."""
    settings.LOCALE_PATHS = []
    app = tmp_path / "app"
    (app / "locale" / "de" / "LC_MESSAGES").mkdir(parents=True)
    (app / "locale" / "de" / "LC_MESSAGES" / "django.po").write_text(
        HEADER + '\nmsgid "Mon dossier"\nmsgstr "Meine Akte"\n', encoding="utf-8"
    )
    (app / "jinja2" / "app").mkdir(parents=True)
    (app / "jinja2" / "app" / "x.jinja").write_text(TEMPLATE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return app


def make_messages() -> polib.POFile:
    call_command("makemessages", locale=["de"], no_obsolete=True, no_location=True, verbosity=0)
    return polib.pofile("app/locale/de/LC_MESSAGES/django.po")


def test_the_messages_of_a_template_are_read_as_jinja2_reads_them(app: Path) -> None:
    path = app / "jinja2" / "app" / "x.jinja"
    assert jinja_messages(app) == [
        Message("Mon dossier", None, path, 2, ("Translators: the title of the record page",)),
        Message("Bonjour %(name)s, voici votre dossier.", None, path, 3),
        Message("%(count)s document", "%(count)s documents", path, 7),
    ]


@needs_gettext
def test_makemessages_adds_the_messages_of_the_templates_and_keeps_their_translations(
    app: Path,
) -> None:
    po = make_messages()
    kept = po.find("Mon dossier")
    assert kept is not None
    assert kept.msgstr == "Meine Akte"
    assert kept.comment == "Translators: the title of the record page"
    trimmed = po.find("Bonjour %(name)s, voici votre dossier.")
    assert trimmed is not None
    assert "python-format" in trimmed.flags
    assert not trimmed.occurrences  # --no-location
    plural = po.find("%(count)s document")
    assert plural is not None
    assert plural.msgid_plural == "%(count)s documents"
    assert not po.obsolete_entries()


@needs_gettext
def test_a_text_of_python_and_of_a_template_is_one_message(app: Path) -> None:
    (app / "views.py").write_text(
        "from django.utils.translation import gettext as _\n\n"
        'TITLES = [_("Mon dossier"), _("Aide")]\n',
        encoding="utf-8",
    )
    po = make_messages()
    assert [entry.msgid for entry in po].count("Mon dossier") == 1
    assert po.find("Aide") is not None
    assert po.find("Bonjour %(name)s, voici votre dossier.") is not None


@needs_gettext
def test_makemessages_skips_the_templates_of_an_ignored_directory(app: Path) -> None:
    (app / "jinja2" / "app" / "x.jinja").rename(app / "jinja2" / "app" / "y.jinja")
    (app / "jinja2" / "app" / "y.jinja").write_text('{{ _("Ignoré") }}', encoding="utf-8")
    (app / "drafts").mkdir()
    (app / "drafts" / "x.jinja").write_text(TEMPLATE, encoding="utf-8")
    call_command("makemessages", locale=["de"], ignore_patterns=["app/drafts"], verbosity=0)
    po = polib.pofile("app/locale/de/LC_MESSAGES/django.po")
    assert po.find("Ignoré") is not None
    assert po.find("Bonjour %(name)s, voici votre dossier.") is None


@needs_gettext
def test_a_template_that_does_not_parse_stops_makemessages(app: Path) -> None:
    (app / "jinja2" / "app" / "x.jinja").write_text(
        "{% trans %}Bonjour{% endfor %}", encoding="utf-8"
    )
    with pytest.raises(CommandError, match=r"x\.jinja:1: control structures"):
        make_messages()


def test_the_platform_has_jinja2_templates() -> None:
    assert sorted(SOURCE.glob("*/jinja2/**/*.jinja"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_of_the_jinja2_templates_is_translated(language: str) -> None:
    po = polib.pofile(str(SOURCE / "locale" / language / "LC_MESSAGES" / "django.po"))
    entries = {entry.msgid: entry for entry in po if not entry.obsolete}
    problems = []
    for message in jinja_messages(SOURCE):
        where = f"{message.file.relative_to(SOURCE)}:{message.line}: {message.msgid!r}"
        entry = entries.get(message.msgid)
        if entry is None:
            problems.append(f"{where} is not in the catalogue")
        elif entry.msgid_plural != (message.msgid_plural or ""):
            problems.append(f"{where}: its plural is {entry.msgid_plural!r} in the catalogue")
        elif not entry.translated():
            problems.append(f"{where} is not translated (or fuzzy)")
    assert not problems, f"{language} (`make messages`, then translate):\n" + "\n".join(problems)
