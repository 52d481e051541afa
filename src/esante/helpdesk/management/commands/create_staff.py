"""`esante create-staff USERNAME --role agent|superviseur|impression`: a staff member of
the helpdesk (agent, superviseur) or of the print side (impression: the letter batches
only, whose PDFs hold activation codes in clear; esante.helpdesk.roles).

The password is asked twice at the terminal (or read from ESANTE_STAFF_PASSWORD for
scripted set-ups) and must pass AUTH_PASSWORD_VALIDATORS (settings.py: 15 characters at
least, not a common password, not like the username, names or e-mail); the authenticator
app's key is printed once, with its QR code drawn in the terminal. Staff are Django users,
never patient accounts; `--superuser` also opens Django's admin (after the same two
factors), and is refused with `--role impression`: one role per account, and no
superuser on the print side.
"""

from __future__ import annotations

import getpass
import io
import os
from typing import Any

import segno
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from esante.accounts.authenticators import totp
from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.commands import BaseCommand
from esante.helpdesk.models import StaffDevice
from esante.helpdesk.roles import ROLES, role_conflict

# The values create_user() stores without checking them, as the command line names them.
CHECKED_OPTIONS = {
    "username": "Nom d'utilisateur",
    "email": "--email",
    "first_name": "--first-name",
    "last_name": "--last-name",
}


class Command(BaseCommand):
    help = (
        "Crée un membre du personnel du helpdesk (agent ou superviseur) ou de l'impression "
        "des courriers (impression) avec son second facteur."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", metavar="NOM_UTILISATEUR")
        parser.add_argument("--role", choices=list(ROLES), required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--superuser", action="store_true")
        parser.add_argument("--no-qr", action="store_true", help="Sans QR code dans le terminal.")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        username = options["username"]
        conflict = role_conflict(ROLES[options["role"]], is_superuser=options["superuser"])
        if conflict:
            raise CommandError(conflict)
        candidate = user_model(
            username=username,
            email=options["email"],
            first_name=options["first_name"],
            last_name=options["last_name"],
        )
        # The user model's rules, which create_user() does not apply: a username not
        # empty, of letters, digits and @.+-_, 150 characters at most; a valid e-mail.
        try:
            candidate.clean_fields(
                exclude={field.name for field in user_model._meta.fields} - set(CHECKED_OPTIONS)
            )
        except ValidationError as error:
            raise CommandError(
                " ".join(
                    f"{CHECKED_OPTIONS.get(name, name)} : {message}"
                    for name, messages in error.message_dict.items()
                    for message in messages
                )
            ) from error
        if user_model.objects.filter(username=username).exists():
            raise CommandError(f"Le nom d'utilisateur {username!r} existe déjà.")
        password = os.environ.get("ESANTE_STAFF_PASSWORD") or self._ask_password()
        try:  # AUTH_PASSWORD_VALIDATORS: 15 characters, not common, not like the names
            validate_password(password, candidate)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        secret = totp.new_secret()
        with transaction.atomic():
            user = user_model.objects.create_user(
                username=username,
                email=options["email"],
                password=password,
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
            if options["superuser"]:
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
            user.groups.add(Group.objects.get(name=options["role"]))
            StaffDevice.objects.create(user=user, totp_secret=totp.seal(secret))
            record_event(
                EventType.HELPDESK_ACTION,
                actor="command:create-staff",
                action="create_staff",
                reason="",
                staff=username,
                role=options["role"],
                superuser=options["superuser"],
            )
        uri = totp.setup_uri(totp.seal(secret), f"helpdesk:{username}")
        self.stdout.write(f"{username} ({options['role']}) créé.")
        self.stdout.write("Clé de l'application d'authentification (affichée une seule fois) :")
        self.stdout.write(" ".join(secret[index : index + 4] for index in range(0, len(secret), 4)))
        self.stdout.write(uri)
        if not options["no_qr"]:
            buffer = io.StringIO()
            segno.make(uri, error="m").terminal(out=buffer, compact=True)
            self.stdout.write(buffer.getvalue())

    def _ask_password(self) -> str:
        first = getpass.getpass("Mot de passe : ")
        if first != getpass.getpass("Mot de passe (confirmation) : "):
            raise CommandError("Les deux mots de passe diffèrent.")
        return first
