"""`esante makemessages` (run by `make messages`): Django's, which reads the Jinja2
templates (`*.jinja`) too.

Django's makemessages extracts with xgettext from the `.py`, `.html` and `.txt` files, and
with `--no-obsolete` drops from the catalogues every message none of them uses: the texts
only a Jinja2 template prints (esante.portal.jinja) would lose their German and English
translations. The messages of every `.jinja` file it walks past (its ignore patterns
apply) go into the domain's `.pot` file, next to xgettext's, before `msguniq` and
`msgmerge`. They are extracted by Jinja2's own extractor, parsing as the environment
does (the i18n extension, newstyle gettext): a syntax error stops the command rather
than losing the template's messages.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import NamedTuple

import jinja2
from django.core.management.base import CommandError
from django.core.management.commands import makemessages
from jinja2.ext import babel_extract

from esante.commands import BaseCommand

JINJA = ".jinja"
# The functions the environment gives the templates (esante.portal.jinja): `{% trans %}`
# calls gettext or ngettext.
KEYWORDS = ("_", "gettext", "ngettext")
COMMENT_TAGS = ("Translators:",)
OPTIONS = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true", "silent": "false"}


class Message(NamedTuple):
    msgid: str
    msgid_plural: str | None
    file: Path
    line: int
    comments: tuple[str, ...] = ()


def template_messages(path: Path) -> list[Message]:
    """The messages of one Jinja2 template, in their order (TemplateSyntaxError if it does
    not parse)."""
    found = list(babel_extract(io.BytesIO(path.read_bytes()), KEYWORDS, COMMENT_TAGS, OPTIONS))
    messages = []
    for line, function, strings, comments in found:
        # `_("…", name=x)` and `{% trans name=x %}` give (msgid, None): the keywords.
        arguments = (strings,) if isinstance(strings, str) or strings is None else strings
        msgid = arguments[0]
        msgid_plural = arguments[1] if function == "ngettext" and len(arguments) > 1 else None
        if not isinstance(msgid, str) or (function == "ngettext" and msgid_plural is None):
            continue  # a variable, not a text: as xgettext, nothing to extract
        # Jinja2 drops the tag, xgettext keeps it (`#. Translators: …`, as Django's).
        notes = tuple(f"{COMMENT_TAGS[0]} {comment}" for comment in comments)
        messages.append(Message(msgid, msgid_plural, path, line, notes))
    return messages


def jinja_messages(root: Path) -> list[Message]:
    """The messages of every Jinja2 template under `root`."""
    return [
        message for path in sorted(root.rglob(f"*{JINJA}")) for message in template_messages(path)
    ]


def is_template(translatable: makemessages.TranslatableFile) -> bool:
    return template_path(translatable).suffix == JINJA


def template_path(translatable: makemessages.TranslatableFile) -> Path:
    # django-stubs name the file `file_name`; Django's TranslatableFile has `path`.
    return Path(translatable.path)  # type: ignore[attr-defined]


class Command(BaseCommand, makemessages.Command):
    def find_files(self, root: str) -> list[makemessages.TranslatableFile]:
        """Django's files, and the `.jinja` ones in the same directories (domain django)."""
        extensions = self.extensions
        if self.domain == "django":
            self.extensions = extensions | {JINJA}
        try:
            return super().find_files(root)
        finally:
            self.extensions = extensions

    def process_locale_dir(
        self, locale_dir: str, files: list[makemessages.TranslatableFile]
    ) -> None:
        """xgettext's messages in the locale directory's `.pot` file, then the templates'."""
        others = [translatable for translatable in files if not is_template(translatable)]
        if others:
            super().process_locale_dir(locale_dir, others)
        templates = [translatable for translatable in files if is_template(translatable)]
        if templates:
            self.write_template_messages(locale_dir, templates)

    def write_template_messages(
        self, locale_dir: str, templates: list[makemessages.TranslatableFile]
    ) -> None:
        import polib  # a development tool: `make messages` only

        pot = polib.POFile()
        # xgettext's header: Django's write_pot_file and copy_plural_forms expect it.
        pot.metadata_is_fuzzy = True
        pot.metadata = {
            "Project-Id-Version": "PACKAGE VERSION",
            "Report-Msgid-Bugs-To": "",
            "POT-Creation-Date": "YEAR-MO-DA HO:MI+ZONE",
            "PO-Revision-Date": "YEAR-MO-DA HO:MI+ZONE",
            "Last-Translator": "FULL NAME <EMAIL@ADDRESS>",
            "Language-Team": "LANGUAGE <LL@li.org>",
            "Language": "",
            "MIME-Version": "1.0",
            "Content-Type": "text/plain; charset=CHARSET",
            "Content-Transfer-Encoding": "8bit",
            "Plural-Forms": "nplurals=INTEGER; plural=EXPRESSION;",
        }
        for translatable in templates:
            path = template_path(translatable)
            if self.verbosity > 1:
                self.stdout.write(f"processing file {path.name} in {path.parent}")
            try:
                messages = template_messages(path)
            except jinja2.TemplateSyntaxError as error:
                raise CommandError(f"{path}:{error.lineno}: {error.message}") from error
            for message in messages:
                pot.append(
                    polib.POEntry(
                        msgid=message.msgid,
                        msgid_plural=message.msgid_plural or "",
                        msgstr_plural={0: "", 1: ""} if message.msgid_plural else {},
                        occurrences=[(os.path.normpath(message.file), str(message.line))],
                        comment="\n".join(message.comments),
                        flags=["python-format"] if "%(" in message.msgid else [],
                    )
                )
        if not pot:
            return
        if locale_dir is makemessages.NO_LOCALE_DIR:
            raise CommandError(
                f"Unable to find a locale path to store translations for file "
                f"{template_path(templates[0])}. Make sure the 'locale' directory exists in "
                "an app or LOCALE_PATHS setting is set."
            )
        # Written as xgettext's output is: its header dropped if the file exists already.
        makemessages.write_pot_file(os.path.join(locale_dir, "django.pot"), str(pot))
