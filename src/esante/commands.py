"""What the platform's management commands (`esante import-registry`, `esante serve`...)
share: argument errors in French, and French-speaking argument types.

argparse words its errors in English ("the following arguments are required: file",
"argument --limit: invalid int value: 'abc'") and Django's CommandParser prints them as
they come. A command deriving from the BaseCommand below gets a FrenchCommandParser,
which turns argparse's usual messages into French before printing them (on the command
line: the usage line, the French line, exit status 2) or raising them as a CommandError
(through call_command). A message it does not know, such as one from an argument type
below, passes unchanged.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import re
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from django.core.management import base
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# argparse's messages (Python 3.11, Lib/argparse.py), each with its French wording.
# ArgumentError prefixes the message about one argument with "argument NAME: ".
_ABOUT_ONE_ARGUMENT = re.compile(r"argument (?P<argument>.+?): (?P<message>.*)", re.DOTALL)


def _unquoted(value: str) -> str:
    """'abc' for "'abc'": argparse shows values with repr()."""
    try:
        literal = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value
    return str(literal)


def _choices(choices: str) -> str:
    """ "agent, superviseur" for "'agent', 'superviseur'"."""
    try:
        literals = ast.literal_eval(f"[{choices}]")
    except (ValueError, SyntaxError):
        return choices
    return ", ".join(str(literal) for literal in literals)


def _count(arguments: str, separator: str) -> int:
    return arguments.count(separator) + 1


_Translation = Callable[[re.Match[str]], str]

_ARGUMENT_MESSAGES: list[tuple[re.Pattern[str], _Translation]] = [
    (
        re.compile(r"invalid int value: (?P<value>.*)", re.DOTALL),
        lambda match: (
            _("« %(value)s » n'est pas un nombre entier.") % {"value": _unquoted(match["value"])}
        ),
    ),
    (
        re.compile(r"invalid float value: (?P<value>.*)", re.DOTALL),
        lambda match: (
            _("« %(value)s » n'est pas un nombre.") % {"value": _unquoted(match["value"])}
        ),
    ),
    (
        re.compile(r"invalid \S+ value: (?P<value>.*)", re.DOTALL),
        lambda match: (
            _("« %(value)s » n'est pas une valeur acceptée.") % {"value": _unquoted(match["value"])}
        ),
    ),
    (
        re.compile(r"invalid choice: (?P<value>.*) \(choose from (?P<choices>.*)\)", re.DOTALL),
        lambda match: (
            _("« %(value)s » n'est pas un choix possible ; choix : %(choices)s.")
            % {"value": _unquoted(match["value"]), "choices": _choices(match["choices"])}
        ),
    ),
    (
        re.compile(r"expected one argument"),
        lambda match: _("il faut lui donner une valeur."),
    ),
    (
        re.compile(r"expected at most one argument"),
        lambda match: _("il accepte une valeur au plus."),
    ),
    (
        re.compile(r"expected at least one argument"),
        lambda match: _("il faut lui donner au moins une valeur."),
    ),
    (
        re.compile(r"expected (?P<count>\d+) arguments?"),
        lambda match: (
            ngettext(
                "il faut lui donner %(count)d valeur.",
                "il faut lui donner %(count)d valeurs.",
                int(match["count"]),
            )
            % {"count": int(match["count"])}
        ),
    ),
    (
        re.compile(r"not allowed with argument (?P<other>.*)", re.DOTALL),
        lambda match: _("incompatible avec %(other)s.") % {"other": match["other"]},
    ),
    (
        re.compile(r"ignored explicit argument (?P<value>.*)", re.DOTALL),
        lambda match: (
            _("n'accepte pas de valeur (« %(value)s »).") % {"value": _unquoted(match["value"])}
        ),
    ),
]

_MESSAGES: list[tuple[re.Pattern[str], _Translation]] = [
    (
        re.compile(r"the following arguments are required: (?P<arguments>.*)", re.DOTALL),
        lambda match: (
            ngettext(
                "Argument obligatoire manquant : %(arguments)s.",
                "Arguments obligatoires manquants : %(arguments)s.",
                _count(match["arguments"], ", "),
            )
            % {"arguments": match["arguments"]}
        ),
    ),
    (
        re.compile(r"unrecognized arguments: (?P<arguments>.*)", re.DOTALL),
        lambda match: (
            ngettext(
                "Argument non reconnu : %(arguments)s.",
                "Arguments non reconnus : %(arguments)s.",
                _count(match["arguments"], " "),
            )
            % {"arguments": match["arguments"]}
        ),
    ),
    (
        re.compile(r"one of the arguments (?P<arguments>.*) is required", re.DOTALL),
        lambda match: (
            _("L'un de ces arguments est obligatoire : %(arguments)s.")
            % {"arguments": match["arguments"]}
        ),
    ),
    (
        re.compile(r"ambiguous option: (?P<option>\S+) could match (?P<matches>.*)", re.DOTALL),
        lambda match: (
            _("Option ambiguë : %(option)s peut désigner %(matches)s.")
            % {"option": match["option"], "matches": match["matches"]}
        ),
    ),
]


def _translated(message: str, table: list[tuple[re.Pattern[str], _Translation]]) -> str | None:
    for pattern, translation in table:
        if match := pattern.fullmatch(message):
            return translation(match)
    return None


def french_argument_error(message: str) -> str:
    """argparse's error `message` in French; a message it does not know, unchanged."""
    if about_one := _ABOUT_ONE_ARGUMENT.fullmatch(message):
        detail = about_one["message"]
        return _("%(argument)s : %(message)s") % {
            "argument": about_one["argument"],
            "message": _translated(detail, _ARGUMENT_MESSAGES) or detail,
        }
    return _translated(message, _MESSAGES) or message


class FrenchCommandParser(base.CommandParser):
    """Django's CommandParser, with argument errors in French."""

    def error(self, message: str) -> NoReturn:
        french = french_argument_error(message)
        if self.called_from_command_line:
            self.print_usage(sys.stderr)
            self.exit(
                2,
                _("%(prog)s : erreur : %(message)s") % {"prog": self.prog, "message": french}
                + "\n",
            )
        raise base.CommandError(french)


class BaseCommand(base.BaseCommand):
    """The base of the platform's commands: Django's, with French argument errors."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> base.CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # Django builds a CommandParser and offers no way to choose its class; ours only
        # overrides methods (it keeps no state of its own), so the one built becomes it.
        parser.__class__ = FrenchCommandParser
        return parser


# Argument types with French errors (argparse shows an ArgumentTypeError's text as is).


def positive_int(value: str) -> int:
    """`type=positive_int`: a whole number of 1 or more."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(
            _("« %(value)s » n'est pas un nombre entier positif.") % {"value": value}
        )
    return number


def iso_date(value: str) -> datetime.date:
    """`type=iso_date`: a date written AAAA-MM-JJ."""
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("« %(value)s » n'est pas une date AAAA-MM-JJ.") % {"value": value}
        ) from None
