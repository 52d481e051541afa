"""`esante rotate-keys`: a new signing key for the ID tokens and logout tokens. The key
that signed until now stays published (the JWKS) until every token it signed has expired;
every node reads the keys from the database at each use, so all of them sign with the new
key from their next request (esante.provider.keys)."""

from __future__ import annotations

from typing import Any

from esante.commands import BaseCommand
from esante.provider import actions


class Command(BaseCommand):
    help = "Renouvelle la clé de signature du fournisseur OpenID Connect."

    def handle(self, *args: Any, **options: Any) -> None:
        kid = actions.rotate_keys(actor="command:rotate-keys")
        self.stdout.write(f"Nouvelle clé de signature : {kid}")
