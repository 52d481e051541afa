"""`esante french-plurals` (run by `make messages`): the French catalogue, for its plural
rule only.

The source text is French, so French needs no translation, except for one thing: without a
French catalogue, gettext falls back to the English rule (singular for 1 only) and prints
"(0 ans)" for a baby. This writes locale/fr with every plural message of the source, each
"translated" into itself, under the French rule (singular for 0 and 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from esante.commands import BaseCommand

LOCALE_DIR = Path(__file__).resolve().parents[3] / "locale"
FRENCH_PLURALS = "nplurals=2; plural=(n > 1);"


class Command(BaseCommand):
    help = "Écrit le catalogue français : les messages au pluriel, sous la règle française."

    def handle(self, *args: Any, **options: Any) -> None:
        import polib  # a development tool: `make messages` only

        source = polib.pofile(str(LOCALE_DIR / "de" / "LC_MESSAGES" / "django.po"))
        french = polib.POFile(wrapwidth=0)
        french.metadata = {
            "Project-Id-Version": "esante",
            "Language": "fr",
            "MIME-Version": "1.0",
            "Content-Type": "text/plain; charset=UTF-8",
            "Content-Transfer-Encoding": "8bit",
            "Plural-Forms": FRENCH_PLURALS,
        }
        for entry in source:
            if entry.msgid_plural and not entry.obsolete:
                french.append(
                    polib.POEntry(
                        msgctxt=entry.msgctxt,
                        msgid=entry.msgid,
                        msgid_plural=entry.msgid_plural,
                        msgstr_plural={0: entry.msgid, 1: entry.msgid_plural},
                    )
                )
        target = LOCALE_DIR / "fr" / "LC_MESSAGES"
        target.mkdir(parents=True, exist_ok=True)
        french.save(str(target / "django.po"))
        self.stdout.write(f"{len(french)} messages au pluriel dans {target / 'django.po'}")
