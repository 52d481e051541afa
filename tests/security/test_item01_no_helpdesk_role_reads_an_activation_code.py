"""Issue 13, item 1: no staff role that talks to patients ever reads a clear activation
code. A clear code opens a DSP (re-activate the account with it), so the batch PDFs go to
the print side only — the *impression* role, which looks nobody up — and their files go
once posted, or after ESANTE_LETTER_BATCH_DAYS days. No account holds the print role with
a helpdesk role or the superuser flag: not through create-staff, not through the admin,
not through the models."""

from __future__ import annotations

import datetime
import io
import os
import stat
from pathlib import Path
from typing import Any, cast

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.audit.models import AuditEvent, EventType
from esante.registry.models import InsuredPerson, LetterBatch, LetterRequest
from tests.accounts.test_login import EMAIL
from tests.accounts.wizard import activate, issue_letter, letter_code_of, page_text
from tests.helpdesk.conftest import STAFF_PASSWORD, make_staff, staff_log_in

pytestmark = pytest.mark.django_db

GENERATE = reverse("helpdesk:batch_generate")
BATCHES = reverse("helpdesk:batches")


def pdf_url(batch: LetterBatch) -> str:
    return reverse("helpdesk:batch_pdf", args=[batch.pk])


def posted_url(batch: LetterBatch) -> str:
    return reverse("helpdesk:batch_posted", args=[batch.pk])


def reissue(client: Client, person: InsuredPerson) -> None:
    url = reverse("helpdesk:person_action", args=[person.esante_id, "courrier"])
    client.post(url, {"reason": "Appel : courrier perdu"})


def logged_in(user: Any) -> Client:
    client = Client()
    staff_log_in(client, user.username)
    return client


@pytest.fixture
def batch(alice: InsuredPerson) -> LetterBatch:
    """A batch of `esante issue-letters` (its PDF in the letters storage)."""
    issue_letter(alice)
    return LetterBatch.objects.get()


def file_exists(batch: LetterBatch) -> bool:
    return storages["letters"].exists(batch.pdf_name)


# The helpdesk side: no batch, no code.


@pytest.mark.parametrize("role", ["agent", "superviseur", "superuser"])
def test_no_helpdesk_role_generates_or_downloads_a_batch(
    role: str, batch: LetterBatch, alice: InsuredPerson
) -> None:
    user = make_staff(f"{role}.test", "agent" if role == "superuser" else role)
    if role == "superuser":
        user.is_staff = user.is_superuser = True
        user.save()
    client = logged_in(user)
    LetterRequest.objects.create(person=alice)

    for response in (
        client.get(BATCHES),
        client.get(pdf_url(batch)),
        client.post(GENERATE),
        client.post(posted_url(batch)),
    ):
        assert response.status_code in (403, 404), response
        assert not response.get("Content-Type", "").startswith("application/pdf")

    assert LetterBatch.objects.count() == 1
    batch.refresh_from_db()
    assert batch.posted_at is None
    assert not AuditEvent.objects.filter(
        event_type=EventType.HELPDESK_ACTION,
        details__action__in=["generate_batch", "batch_downloaded", "batch_posted"],
    ).exists()


def test_the_attack_of_the_issue_fails_for_an_agent(
    agent_client: Client, alice: InsuredPerson, printer_client: Client
) -> None:
    """Re-issue a letter for someone, generate the batch, read the code: the agent can do
    the first step only; the code exists in the print side's PDF and nowhere the agent
    can reach, and the agent still sees that a letter exists and its state."""
    activate(Client(), alice, EMAIL)  # her DSP exists: the prize
    batches_before = LetterBatch.objects.count()
    reissue(agent_client, alice)
    assert LetterRequest.objects.filter(person=alice, fulfilled_at__isnull=True).exists()

    assert agent_client.post(GENERATE).status_code == 403
    assert LetterBatch.objects.count() == batches_before

    printer_client.post(GENERATE)  # the print side's run, as every night
    batch = LetterBatch.objects.latest("pk")
    code = letter_code_of(alice)  # (demo mode: the outbox, a page no staff reaches in production)
    assert agent_client.get(pdf_url(batch)).status_code == 403
    person_page = page_text(agent_client.get(reverse("helpdesk:person", args=[alice.esante_id])))
    home = page_text(agent_client.get(reverse("helpdesk:home")))
    for page in (person_page, home):
        assert code not in page and code.replace("-", "") not in page
        assert pdf_url(batch) not in page and BATCHES not in page
    assert "Courriers d'activation" in person_page
    assert f"{batch.pk} — pas encore posté" in person_page
    assert "Valable" in person_page and "Utilisé le" in person_page


def test_the_dev_outbox_is_not_reachable_by_a_staff_session_outside_demo_mode(
    settings: Any, agent_client: Client, batch: LetterBatch
) -> None:
    settings.ESANTE_DEMO = False

    for name in ("demo:outbox", "demo:outbox_json"):
        assert agent_client.get(reverse(name)).status_code == 404


def test_no_admin_page_shows_a_batch_a_letter_or_a_message(batch: LetterBatch) -> None:
    admin_user = make_staff("admin.kremer", "agent")
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client = logged_in(admin_user)

    index = client.get("/admin/")
    assert index.status_code == 200
    for path in (
        "/admin/registry/letterbatch/",
        f"/admin/registry/letterbatch/{batch.pk}/change/",
        "/admin/registry/activationletter/",
        "/admin/notifications/outboundmessage/",
    ):
        assert client.get(path).status_code == 404, path
    assert "registry" not in page_text(index) and "notifications" not in page_text(index)
    assert client.get(pdf_url(batch)).status_code == 403


# The print side: the batches, nothing else.


def test_the_print_operator_generates_downloads_and_posts_then_the_file_is_gone(
    printer: Any, printer_client: Client, agent_client: Client, alice: InsuredPerson
) -> None:
    reissue(agent_client, alice)

    home = printer_client.get(reverse("helpdesk:home"))
    assert home["Location"] == BATCHES
    page = page_text(printer_client.get(BATCHES))
    assert "1 demande de nouveau courrier" in page
    assert alice.full_name not in page  # the print side looks nobody up
    generated = printer_client.post(GENERATE, follow=True)
    batch = LetterBatch.objects.get()
    assert f"Lot {batch.pk} généré : 1 courrier." in page_text(generated)

    pdf = printer_client.get(pdf_url(batch))
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]
    downloaded = AuditEvent.objects.get(details__action="batch_downloaded")
    assert downloaded.actor == f"staff:{printer.pk}"
    assert downloaded.details["batch"] == batch.pk

    posted = printer_client.post(posted_url(batch), follow=True)

    assert f"Lot {batch.pk} marqué comme posté ; son PDF est supprimé." in page_text(posted)
    batch.refresh_from_db()
    assert batch.posted_at is not None and batch.pdf_deleted_at is not None
    assert not file_exists(batch)
    assert not list(Path(storages["letters"].path("")).iterdir())
    deleted = AuditEvent.objects.get(event_type="letter.batch_file_deleted")
    assert deleted.actor == f"staff:{printer.pk}"
    assert deleted.details == {
        "batch_id": batch.pk,
        "pdf_name": batch.pdf_name,
        "reason": "posted",
    }
    again = printer_client.get(pdf_url(batch), follow=True)
    assert again.status_code == 200
    assert f"Le PDF du lot {batch.pk} n'existe plus" in page_text(again)
    person_page = page_text(agent_client.get(reverse("helpdesk:person", args=[alice.esante_id])))
    posted_on = timezone.localdate(batch.posted_at)
    assert f"{batch.pk} — posté le {posted_on.day}" in person_page


def test_the_print_operator_opens_no_person_audit_log_or_statistics(
    printer: Any, printer_client: Client, alice: InsuredPerson
) -> None:
    for url in (
        reverse("helpdesk:home") + f"?q={alice.matricule}",
        reverse("helpdesk:person", args=[alice.esante_id]),
        reverse("helpdesk:audit_log"),
        reverse("helpdesk:statistics"),
        reverse("helpdesk:statistics_csv"),
        reverse("helpdesk:emergency_report"),
    ):
        response = printer_client.get(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert response["Location"] == BATCHES, url
    for action in ("courrier", "debloquer"):
        url = reverse("helpdesk:person_action", args=[alice.esante_id, action])
        assert printer_client.post(url, {"reason": "Essai du rôle"}).status_code == 403
    note = reverse("helpdesk:person_note", args=[alice.esante_id])
    assert printer_client.post(note, {"text": "Essai"}).status_code == 403
    assert not AuditEvent.objects.filter(event_type=EventType.HELPDESK_LOOKUP).exists()
    assert not LetterRequest.objects.exists()
    refused = AuditEvent.objects.filter(
        event_type=EventType.ACCESS_DENIED, actor=f"staff:{printer.pk}"
    )
    assert refused.count() == 8


# No account holds both sides.


def test_create_staff_makes_a_print_operator_but_never_a_superuser_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(os.environ, "ESANTE_STAFF_PASSWORD", STAFF_PASSWORD)

    with pytest.raises(CommandError, match="superutilisateur"):
        call_command(
            "create_staff",
            "imp.admin",
            "--role",
            "impression",
            "--superuser",
            "--no-qr",
            stdout=io.StringIO(),
        )
    call_command(
        "create_staff", "imp.schmit", "--role", "impression", "--no-qr", stdout=io.StringIO()
    )

    assert not get_user_model().objects.filter(username="imp.admin").exists()
    operator = get_user_model().objects.get(username="imp.schmit")
    assert list(operator.groups.values_list("name", flat=True)) == ["impression"]
    assert not operator.is_superuser


def test_the_models_refuse_an_account_with_both_sides(printer: Any) -> None:
    agent = make_staff("agent.both", "agent")
    impression, agent_group = Group.objects.get(name="impression"), Group.objects.get(name="agent")
    print_letters = Permission.objects.get(codename="print_letters")

    for change in (
        lambda: agent.groups.add(impression),
        lambda: impression.user_set.add(agent),
        lambda: printer.groups.add(agent_group),
        lambda: agent.user_permissions.add(print_letters),
        lambda: agent_group.permissions.add(print_letters),
        lambda: printer.save(update_fields=["is_superuser"]),
    ):
        printer.is_superuser = True  # saved by the last one only
        with pytest.raises(ValidationError), transaction.atomic():
            change()
    printer.refresh_from_db()

    assert not printer.is_superuser
    assert list(agent.groups.values_list("name", flat=True)) == ["agent"]
    assert not agent.user_permissions.exists()
    assert not agent_group.permissions.filter(codename="print_letters").exists()


def test_an_account_given_both_sides_behind_the_guards_back_gets_no_batch(
    batch: LetterBatch,
) -> None:
    """Raw rows (no signal fires for them): the batch pages still refuse the account."""
    agent = make_staff("agent.both", "agent")
    get_user_model().groups.through.objects.create(
        user=agent, group=Group.objects.get(name="impression")
    )
    client = logged_in(agent)

    assert client.get(BATCHES).status_code == 403
    assert client.get(pdf_url(batch)).status_code == 403


def admin_client() -> Client:
    admin_user = make_staff("admin.kremer", "agent")
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    return logged_in(admin_user)


def test_the_admin_refuses_to_give_an_account_both_sides(printer: Any) -> None:
    client = admin_client()
    assert client.get("/admin/auth/user/add/").status_code == 200
    assert client.get("/admin/auth/group/add/").status_code == 200
    agent = make_staff("agent.both", "agent")
    groups = {group.name: group.pk for group in Group.objects.all()}
    joined = timezone.localtime(agent.date_joined)

    def change(user: Any, *, group_names: list[str], superuser: bool = False) -> Any:
        data: dict[str, Any] = {
            "username": user.username,
            "first_name": "",
            "last_name": "",
            "email": "",
            "is_active": "on",
            "groups": [groups[name] for name in group_names],
            "user_permissions": [],
            "date_joined_0": joined.strftime("%Y-%m-%d"),
            "date_joined_1": joined.strftime("%H:%M:%S"),
            "last_login_0": "",
            "last_login_1": "",
        }
        if superuser:
            data["is_superuser"] = data["is_staff"] = "on"
        return client.post(f"/admin/auth/user/{user.pk}/change/", data)

    both = change(agent, group_names=["agent", "impression"])
    superuser_printer = change(printer, group_names=["impression"], superuser=True)
    allowed = change(agent, group_names=["superviseur"])

    for refused in (both, superuser_printer):
        assert refused.status_code == 200
        assert "Le rôle « impression » ne peut pas" in page_text(
            refused
        ) or "Un superutilisateur ne peut pas avoir le rôle « impression »" in page_text(refused)
    assert allowed.status_code == 302, page_text(allowed)[:3000]
    assert list(agent.groups.values_list("name", flat=True)) == ["superviseur"]
    printer.refresh_from_db()
    assert not printer.is_superuser

    group_page = client.post(
        f"/admin/auth/group/{groups['agent']}/change/",
        {
            "name": "agent",
            "permissions": list(
                Permission.objects.filter(
                    codename__in=["use_helpdesk", "print_letters"]
                ).values_list("pk", flat=True)
            ),
        },
    )
    assert group_page.status_code == 200
    assert "Le rôle « impression » ne peut pas" in page_text(group_page)
    assert not Group.objects.filter(name="agent", permissions__codename="print_letters").exists()


# The files go.


def test_batch_files_are_purged_after_the_set_days_and_the_rows_stay(
    printer_client: Client, batch: LetterBatch, alice: InsuredPerson
) -> None:
    days = settings.ESANTE_LETTER_BATCH_DAYS
    made = batch.created_at

    with time_machine.travel(made + datetime.timedelta(days=days, hours=-1), tick=False):
        call_command("purge_letter_batches", stdout=io.StringIO())
    assert file_exists(batch)

    out = io.StringIO()
    with time_machine.travel(made + datetime.timedelta(days=days, hours=1), tick=False):
        call_command("purge_letter_batches", stdout=out)
        call_command("purge_letter_batches", stdout=io.StringIO())  # idempotent

    assert f"Lot {batch.pk}" in out.getvalue()
    assert not file_exists(batch)
    batch.refresh_from_db()
    assert batch.pdf_deleted_at is not None and batch.posted_at is None
    assert batch.letters.get().person == alice  # the history stays
    deleted = AuditEvent.objects.get(event_type="letter.batch_file_deleted")
    assert deleted.actor == "command:purge-letter-batches"
    assert deleted.details["reason"] == "expired"
    refused = printer_client.get(pdf_url(batch), follow=True)
    assert f"Le PDF du lot {batch.pk} n'existe plus" in page_text(refused)
    page = page_text(printer_client.get(BATCHES))
    assert "Supprimé le" in page and pdf_url(batch) not in page


def test_issue_letters_writes_the_print_path_for_the_service_user_only(
    settings: Any, tmp_path: Path, alice: InsuredPerson
) -> None:
    """The files of `esante issue-letters` (the print side on the server) with the
    production storage options: mode 0600 in a 0700 directory, the path printed."""
    from esante import settings as project

    letters = cast(dict[str, Any], project.STORAGES["letters"])
    location = tmp_path / "courrier" / "lots"
    settings.STORAGES = {
        **settings.STORAGES,
        "letters": {**letters, "OPTIONS": {**letters["OPTIONS"], "location": str(location)}},
    }
    out = io.StringIO()

    call_command("issue_letters", stdout=out, stderr=io.StringIO(), verbosity=0)

    batch = LetterBatch.objects.get()
    path = Path(storages["letters"].path(batch.pdf_name))
    assert path.parent == location
    assert str(path) in out.getvalue()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(location.stat().st_mode) == 0o700
