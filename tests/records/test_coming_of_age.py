"""Coming of age (frozen time): the notice 30 days before 18, the end of the assistant
rights given during minority on the birthday, and the first login after majority."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from esante.accounts.models import Account, IdentityLink, Passkey
from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import OutboundMessage
from esante.records.actions import add_assistant
from esante.records.majority import coming_of_age, majority_date
from esante.records.models import AccessAction, AccessEntry, Assistant, Capacity, CareRecord
from esante.registry.models import InsuredPerson
from tests.accounts.test_recovery import ask
from tests.accounts.wizard import PASSWORD, activate, last_one_time_code, page_text
from tests.factories import make_person

pytestmark = pytest.mark.django_db

LUXEMBOURG = ZoneInfo("Europe/Luxembourg")
BIRTH = datetime.date(2008, 12, 20)  # 18 on 2026-12-20


@contextmanager
def on(day: str, hour: int = 10) -> Iterator[None]:
    moment = datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=LUXEMBOURG)
    with time_machine.travel(moment, tick=True):
        yield


def log_in(person: InsuredPerson, email: str, password: str = PASSWORD) -> Client:
    client = Client()
    client.post(reverse("patient:login"), {"matricule": person.matricule, "password": password})
    client.post(reverse("patient:login_code"), {"code": last_one_time_code(email)})
    return client


@pytest.fixture
def family(alice: InsuredPerson) -> tuple[InsuredPerson, CareRecord]:
    """Léa, 17, whose account her mother Alice activated; Alice is her assistant."""
    lea = make_person("Léa", "Martin", BIRTH, sex="F")
    with on("2026-10-01"):
        activate(Client(), lea, "parents@example.lu")
        activate(Client(), alice, "alice@example.lu")
        record = CareRecord.objects.get(person=lea)
        add_assistant(
            record, alice, role="Mère", actor=lea, capacity=Capacity.OWNER, ip_address=None
        )
    return lea, record


def test_majority_date_handles_29_february() -> None:
    assert majority_date(datetime.date(2008, 2, 29)) == datetime.date(2026, 3, 1)
    assert majority_date(BIRTH) == datetime.date(2026, 12, 20)


def test_the_notice_goes_30_days_before_and_only_once(
    family: tuple[InsuredPerson, CareRecord],
) -> None:
    lea, _record = family
    subject = "Fin des droits d'assistant DSP à la majorité"

    with on("2026-11-19"):
        assert coming_of_age().notices == 0
    with on("2026-11-20"):
        assert coming_of_age().notices == 1
        assert coming_of_age().notices == 0  # run twice the same day
        call_command("coming_of_age")  # and by hand

    notices = OutboundMessage.objects.filter(subject=subject)
    assert sorted(notices.values_list("recipient", flat=True)) == [
        "alice@example.lu",
        "parents@example.lu",
    ]
    assert "20/12/2026" in notices.get(recipient="alice@example.lu").body
    assert AuditEvent.objects.filter(event_type=EventType.MAJORITY_NOTICE, person=lea).count() == 1
    assert Assistant.objects.get().ended_at is None


def test_rights_end_on_the_birthday_and_the_holder_reviews_the_account(
    family: tuple[InsuredPerson, CareRecord], alice: InsuredPerson
) -> None:
    lea, record = family
    record_url = reverse("records:record", args=[record.public_id])
    with on("2026-12-19"):
        coming_of_age()
        assert log_in(alice, "alice@example.lu").get(record_url).status_code != 404
        assert Assistant.objects.get().ended_at is None

    with on("2026-12-20", hour=0):
        run = coming_of_age()
        again = coming_of_age()

    assert (run.ended, again.ended) == (1, 0)
    row = Assistant.objects.get()
    assert row.ended_at is not None and row.ended_at_majority
    entry = AccessEntry.objects.get(action=AccessAction.MAJORITY_END)
    assert (entry.actor, entry.capacity) == (None, Capacity.AGENCY)
    assert Account.objects.get(person=lea).majority_review_due
    assert Account.objects.get(person=alice).majority_review_due is False

    with on("2026-12-21"):
        assert log_in(alice, "alice@example.lu").get(record_url).status_code == 404
        journal = page_text(
            log_in(lea, "parents@example.lu").get(
                reverse("records:journal", args=[record.public_id]), follow=True
            )
        )
    assert "Vous êtes majeur" in journal  # every page leads to the review first


def test_the_first_login_after_majority_new_password_channel_and_assistants(
    family: tuple[InsuredPerson, CareRecord], alice: InsuredPerson
) -> None:
    lea, _record = family
    with on("2026-12-20"):
        coming_of_age()
    with on("2026-12-22"):
        parent = log_in(lea, "parents@example.lu")  # the parent, on the child's account
        Passkey.objects.create(
            account=Account.objects.get(person=lea),
            name="Téléphone de maman",
            credential_id="parent-key",
            public_key=b"\x00",
        )
        client = log_in(lea, "parents@example.lu")
        page = client.get(reverse("patient:services"), follow=True)
        assert page.redirect_chain[-1][0] == reverse("records:majority")
        text = page_text(page)
        assert alice.public_label in text and "*****@example.lu" in text
        assert "Téléphone de maman" in text

        refused = client.post(reverse("records:majority"), {"password1": "court"})
        assert refused.status_code == 400
        assert "Choisissez de garder ou de remplacer ce moyen." in page_text(refused)

        former = Assistant.objects.get()
        done = client.post(
            reverse("records:majority"),
            {
                "password1": "Mon propre secret 2026",
                "password2": "Mon propre secret 2026",
                "channel": "replace",
                "kept": [str(former.pk)],
            },
        )
        assert done["Location"] == reverse("patient:contact")
        assert client.get(reverse("patient:contact")).status_code == 200
        assert not Passkey.objects.exists()  # not kept: the parent's key is gone
        assert parent.get(reverse("patient:services")).status_code == 302  # logged out
        kept = Assistant.objects.get(ended_at__isnull=True)
        assert (kept.person, kept.during_minority, kept.added_by) == (alice, False, lea)

        # Until the new channel is confirmed, every page leads to it, even after a new login,
        # and the parent's channel cannot reset the holder's new password.
        account = Account.objects.get(person=lea)
        assert account.majority_channel_pending
        sent_before = OutboundMessage.objects.filter(recipient="parents@example.lu").count()
        ask(Client(), lea.matricule)
        assert OutboundMessage.objects.filter(recipient="parents@example.lu").count() == sent_before
        again = log_in(lea, "parents@example.lu", "Mon propre secret 2026")
        for elsewhere in ("patient:services", "records:mine", "records:majority"):
            assert again.get(reverse(elsewhere))["Location"] == reverse("patient:contact")
        assert "Dernière étape" in page_text(again.get(reverse("patient:contact")))
        asked = again.post(
            reverse("patient:contact"),
            {"current": "Mon propre secret 2026", "channel": "email", "email": "lea@example.lu"},
        )
        assert asked["Location"] == reverse("patient:contact_code")
        again.post(reverse("patient:contact_code"), {"code": last_one_time_code("lea@example.lu")})

        account = Account.objects.get(person=lea)
        assert not account.majority_review_due and account.majority_reviewed_at is not None
        assert account.email == "lea@example.lu"
        assert again.get(reverse("records:mine"))["Location"].startswith("/dsp/")
        assert again.get(reverse("patient:services")).status_code == 200

    with on("2027-01-05"):
        coming_of_age()
        assert Assistant.objects.filter(ended_at__isnull=True).count() == 1  # kept for good
        assert not Account.objects.get(person=lea).majority_review_due


def test_the_review_lists_the_identity_links_and_unlinks_those_not_kept(
    family: tuple[InsuredPerson, CareRecord], settings: Any
) -> None:
    """A LuxTrust a parent linked to the child's account logs in without password nor
    code: at majority the holder keeps it only by ticking it."""
    settings.ESANTE_OIDC_PROVIDERS = [
        {"slug": slug, "name": name, "issuer": f"https://{slug}.example", "client_id": "esante"}
        | {"client_secret": "s"}
        for slug, name in (("luxtrust", "LuxTrust"), ("autre", "Autre fournisseur"))
    ]
    lea, _record = family
    account = Account.objects.get(person=lea)
    parents = IdentityLink.objects.create(account=account, provider="luxtrust", subject="papa")
    own = IdentityLink.objects.create(account=account, provider="autre", subject="lea")
    with on("2026-12-20"):
        coming_of_age()
    with on("2026-12-22"):
        client = log_in(lea, "parents@example.lu")
        page = page_text(client.get(reverse("records:majority")))
        assert "LuxTrust" in page and "Autre fournisseur" in page

        done = client.post(
            reverse("records:majority"),
            {
                "password1": "Mon propre secret 2026",
                "password2": "Mon propre secret 2026",
                "channel": "keep",
                "links_kept": [str(own.pk)],
            },
        )

    assert done.status_code == 302
    assert list(IdentityLink.objects.all()) == [own]
    assert not IdentityLink.objects.filter(pk=parents.pk).exists()
    unlinked = AuditEvent.objects.get(event_type=EventType.IDENTITY_UNLINKED)
    assert (unlinked.person, unlinked.details["provider"]) == (lea, "luxtrust")


def test_minority_rights_end_on_the_birthday_even_before_the_daily_run(
    family: tuple[InsuredPerson, CareRecord], alice: InsuredPerson, bob: InsuredPerson
) -> None:
    """Between midnight and `esante coming-of-age`, the parent's rights are already over:
    no access, no record in their list, and no way to add someone who would stay."""
    _lea, record = family
    record_url = reverse("records:record", args=[record.public_id])
    with on("2026-12-19", hour=23):
        parent = log_in(alice, "alice@example.lu")
        assert parent.get(record_url).status_code == 200
        assert "Léa" in page_text(parent.get(reverse("records:others")))

    with on("2026-12-20", hour=1):  # the daily run has not come yet
        assert Assistant.objects.get().ended_at is None
        parent = log_in(alice, "alice@example.lu")
        assert parent.get(record_url).status_code == 404
        assert "Léa" not in page_text(parent.get(reverse("records:others")))
        refused = parent.post(
            reverse("records:assistant_add", args=[record.public_id]),
            {"person": str(bob.pk), "role": "Oncle"},
        )
        assert refused.status_code == 404
    assert Assistant.objects.count() == 1
