"""The platform's commands (`esante ...`): argument errors in French (esante.commands),
and the arguments `serve` and `create-staff` check before doing anything."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError

from esante.audit.models import AuditEvent
from esante.commands import FrenchCommandParser, french_argument_error
from esante.portal.management.commands import serve
from esante.registry.management.commands.import_registry import Command as ImportCommand


def platform_commands() -> list[str]:
    return sorted(name for name, app in get_commands().items() if app.startswith("esante."))


@pytest.mark.parametrize("name", platform_commands())
def test_every_platform_command_words_its_argument_errors_in_french(name: str) -> None:
    command = load_command_class(get_commands()[name], name)
    assert isinstance(command.create_parser("esante", name), FrenchCommandParser)


# The messages of argparse, through the commands that meet them ------------------------


@pytest.mark.parametrize(
    ("arguments", "french"),
    [
        (["import_registry"], "Argument obligatoire manquant : FICHIER."),
        (
            ["create_staff"],
            "Arguments obligatoires manquants : NOM_UTILISATEUR, --role.",
        ),
        (
            ["create_staff", "marie", "--role", "chef"],
            "--role : « chef » n'est pas un choix possible ; "
            "choix : agent, superviseur, impression.",
        ),
        (["import_registry", "a.csv", "--bogus"], "Argument non reconnu : --bogus."),
        (["import_registry", "a.csv", "b.csv", "-x"], "Arguments non reconnus : b.csv -x."),
        (
            ["coming_of_age", "--verbosity", "abc"],
            "-v/--verbosity : « abc » n'est pas un nombre entier.",
        ),
        (
            ["coming_of_age", "--verbosity", "7"],
            "-v/--verbosity : « 7 » n'est pas un choix possible ; choix : 0, 1, 2, 3.",
        ),
        (["coming_of_age", "--date"], "--date : il faut lui donner une valeur."),
        (
            ["coming_of_age", "--date", "17/05/2025"],
            "--date : « 17/05/2025 » n'est pas une date AAAA-MM-JJ.",
        ),
        (
            ["serve", "--workers", "abc"],
            "--workers : « abc » n'est pas un nombre entier positif.",
        ),
        (["serve", "--workers", "0"], "--workers : « 0 » n'est pas un nombre entier positif."),
        (["serve", "--port", "http"], "--port : « http » n'est pas un nombre entier positif."),
    ],
)
def test_argument_errors_are_french_command_errors(arguments: list[str], french: str) -> None:
    with pytest.raises(CommandError) as refused:
        call_command(*arguments)

    assert str(refused.value) == french


def parser_with(*arguments: tuple[Sequence[str], dict[str, Any]]) -> FrenchCommandParser:
    parser = FrenchCommandParser(prog="esante test")
    for flags, options in arguments:
        parser.add_argument(*flags, **options)
    return parser


@pytest.mark.parametrize(
    ("parser", "arguments", "french"),
    [
        (
            parser_with((["--ratio"], {"type": float})),
            ["--ratio", "un"],
            "--ratio : « un » n'est pas un nombre.",
        ),
        (
            parser_with((["--point"], {"nargs": 2})),
            ["--point", "1"],
            "--point : il faut lui donner 2 valeurs.",
        ),
        (
            parser_with((["--names"], {"nargs": "+"})),
            ["--names"],
            "--names : il faut lui donner au moins une valeur.",
        ),
        (
            parser_with((["--dry-run"], {"action": "store_true"})),
            ["--dry-run=oui"],
            "--dry-run : n'accepte pas de valeur (« oui »).",
        ),
        (
            parser_with((["--limit"], {}), (["--list"], {})),
            ["--li", "1"],
            "Option ambiguë : --li peut désigner --limit, --list.",
        ),
    ],
)
def test_other_argparse_messages_are_french_too(
    parser: FrenchCommandParser, arguments: list[str], french: str
) -> None:
    with pytest.raises(CommandError) as refused:
        parser.parse_args(arguments)

    assert str(refused.value) == french


def test_mutually_exclusive_options_are_refused_in_french() -> None:
    parser = FrenchCommandParser(prog="esante test")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--sms", action="store_true")
    group.add_argument("--email", action="store_true")

    with pytest.raises(CommandError) as both:
        parser.parse_args(["--sms", "--email"])
    with pytest.raises(CommandError) as neither:
        parser.parse_args([])

    assert str(both.value) == "--email : incompatible avec --sms."
    assert str(neither.value) == "L'un de ces arguments est obligatoire : --sms --email."


def test_a_message_argparse_does_not_word_passes_unchanged() -> None:
    assert french_argument_error("Déjà en français.") == "Déjà en français."
    assert french_argument_error("argument --x: expected at most one argument") == (
        "--x : il accepte une valeur au plus."
    )


def test_on_the_command_line_the_error_is_one_french_line_after_the_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        ImportCommand().run_from_argv(["esante", "import_registry"])

    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("usage: esante import_registry ")
    assert error.splitlines()[-1] == (
        "esante import_registry : erreur : Argument obligatoire manquant : FICHIER."
    )
    assert "Traceback" not in error


# esante serve ----------------------------------------------------------------------------


@pytest.fixture
def serve_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What `serve` would do: the commands it calls, and gunicorn's arguments."""
    calls: list[Any] = []
    monkeypatch.setattr(serve, "call_command", lambda *args, **options: calls.append(args))

    def execv(program: str, arguments: list[str]) -> None:
        calls.append(arguments[1:])
        raise SystemExit(0)

    monkeypatch.setattr(os, "execv", execv)
    return calls


@pytest.mark.django_db
def test_serve_starts_gunicorn_with_the_number_of_workers(serve_calls: list[Any]) -> None:
    with pytest.raises(SystemExit):
        call_command("serve", "--workers", "3", stdout=io.StringIO())

    gunicorn = serve_calls[-1]
    assert gunicorn[gunicorn.index("--workers") + 1] == "3"
    assert ("migrate",) in serve_calls


def test_serve_refuses_bad_workers_before_migrating(
    serve_calls: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        serve.Command().run_from_argv(["esante", "serve", "--workers", "abc"])

    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert error.splitlines()[-1] == (
        "esante serve : erreur : --workers : « abc » n'est pas un nombre entier positif."
    )
    assert "Traceback" not in error
    assert serve_calls == []


def test_serve_refuses_a_bad_web_concurrency_like_a_bad_option(
    serve_calls: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "deux")

    with pytest.raises(CommandError, match="« deux » n'est pas un nombre entier positif"):
        call_command("serve")

    assert serve_calls == []


@pytest.mark.django_db
def test_serve_prints_the_portal_at_localhost(serve_calls: list[Any]) -> None:
    """Browsers refuse passkeys at an IP address: the address to open is localhost's,
    while gunicorn binds 127.0.0.1 (where localhost leads, and which keeps answering)."""
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("serve", "--port", "8123", stdout=out)

    assert out.getvalue().splitlines()[-1] == "Portail : http://localhost:8123/"
    gunicorn = serve_calls[-1]
    assert gunicorn[gunicorn.index("--bind") + 1] == "127.0.0.1:8123"


@pytest.mark.parametrize(
    "host",
    ["0.0.0.0", "::", "192.168.1.10", "esante.example.lu"],  # noqa: S104 - refused, never bound
)
def test_serve_refuses_demo_mode_beyond_loopback_before_migrating(
    serve_calls: list[Any], settings: Any, host: str
) -> None:
    settings.ESANTE_DEMO = True

    with pytest.raises(CommandError, match=r"ne sert qu'en local, en HTTP : --host \S+ est refusé"):
        call_command("serve", "--host", host)

    assert serve_calls == []


# esante create-staff ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "french"),
    [
        ([""], "Nom d'utilisateur : Ce champ ne peut pas être vide."),
        (["marie dupont"], "Nom d'utilisateur : Saisissez un nom d’utilisateur valide."),
        (["marie", "--email", "marie@"], "--email : Saisissez une adresse de courriel valide."),
        (["marie", "--last-name", "D" * 151], "--last-name : Assurez-vous que cette valeur"),
    ],
)
def test_create_staff_refuses_a_bad_username_or_email_in_french(
    monkeypatch: pytest.MonkeyPatch, arguments: list[str], french: str
) -> None:
    monkeypatch.setenv("ESANTE_STAFF_PASSWORD", "Un mot de passe du personnel 2026")

    with pytest.raises(CommandError) as refused:
        call_command("create_staff", *arguments, "--role", "agent", "--no-qr")

    assert str(refused.value).startswith(french)
    assert not get_user_model().objects.exists()
    assert not AuditEvent.objects.exists()
