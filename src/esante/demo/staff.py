"""Demo staff for `make run` (demo mode only): one agent, one superviseur and one print
operator (the letter batches), with a known password and authenticator key printed at
start-up, so the helpdesk and the print side can be tried locally. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from esante.accounts.authenticators import totp
from esante.helpdesk.models import StaffDevice

DEMO_PASSWORD = "Guichet demo 2026"  # noqa: S105 - demo mode only, printed at start-up


@dataclass(frozen=True)
class DemoStaff:
    username: str
    role: str
    secret: str


DEMO_STAFF = (
    DemoStaff("agent.demo", "agent", "DEMOAGENTDEMOAGENTDEMOAGENTDEMO2"),
    DemoStaff("superviseur.demo", "superviseur", "DEMOSUPERDEMOSUPERDEMOSUPERDEMO2"),
    DemoStaff("impression.demo", "impression", "DEMOPRINTDEMOPRINTDEMOPRINTDEMO2"),
)


@transaction.atomic
def load_demo_staff() -> list[DemoStaff]:
    user_model = get_user_model()
    for staff in DEMO_STAFF:
        user, created = user_model.objects.get_or_create(username=staff.username)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=staff.role))
            StaffDevice.objects.create(user=user, totp_secret=totp.seal(staff.secret))
    return list(DEMO_STAFF)
