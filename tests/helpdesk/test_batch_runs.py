"""Letter runs, from the helpdesk's "Générer" and from `esante issue-letters`: a run that
stops before its batch exists loses no request for a new letter, and only one run goes
at a time, whoever starts it."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable
from typing import IO, Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import Client
from django.urls import reverse

from esante.accounts.models import Account
from esante.audit.models import AuditEvent, EventType
from esante.helpdesk import actions
from esante.helpdesk.actions import (
    generate_batch,
    open_requests,
    reissue_letter,
    reset_code_channel,
)
from esante.registry import letter_pdf, letter_render, letters
from esante.registry.letter_pdf import LetterPage
from esante.registry.letters import (
    RUN_LOCK_KEY,
    LetterRunInProgress,
    issue_letters,
    persons_needing_letters,
    request_new_letter,
)
from esante.registry.management.commands import issue_letters as issue_letters_command
from esante.registry.models import ActivationLetter, InsuredPerson, LetterBatch
from tests.accounts.test_login import EMAIL
from tests.accounts.wizard import activate, page_text
from tests.concurrency import needs_postgresql, run_together
from tests.factories import make_person, years_ago
from tests.registry.test_letter_pdf import letters_dir

__all__ = ["letters_dir"]  # autouse: the letters go to tmp_path

pytestmark = pytest.mark.django_db

BUSY = "Un autre envoi de courriers est en cours ; réessayez plus tard."


@pytest.fixture
def account(alice: InsuredPerson) -> Account:
    activate(Client(), alice, EMAIL)
    return Account.objects.get(person=alice)


def run_command() -> str:
    out = io.StringIO()
    call_command("issue_letters", stdout=out, stderr=io.StringIO(), verbosity=0)
    return out.getvalue()


def usable_letters(person: InsuredPerson) -> list[ActivationLetter]:
    return list(ActivationLetter.objects.usable().filter(person=person))


# A run that stops early.


def break_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(pages: Iterable[LetterPage], output: IO[bytes], **kwargs: Any) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(letters, "render_letters", full_disk)


def break_storing(monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(output: IO[bytes], **kwargs: Any) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(letters, "_store_pdf", full_disk)


def break_pipelined_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    def render_error(pages: Iterable[LetterPage], output: IO[bytes], **kwargs: Any) -> int:
        raise ValueError("font missing")

    monkeypatch.setattr(letters, "PIPELINE_FROM", 1)
    monkeypatch.setattr(letter_render, "render_letters", render_error)


def break_attaching(monkeypatch: pytest.MonkeyPatch) -> None:
    """The database fails in the last transaction, after the requests were closed in it."""

    def connection_lost(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("connection lost")

    monkeypatch.setattr(letters, "record_event", connection_lost)


# Each way a run can stop before its batch exists, and what the run then raises.
FAILURES: dict[str, tuple[Callable[[pytest.MonkeyPatch], None], type[Exception]]] = {
    "render": (break_rendering, OSError),
    "store": (break_storing, OSError),
    "pipelined render": (break_pipelined_rendering, letter_render.RenderingFailed),
    "attach": (break_attaching, RuntimeError),
}


@pytest.mark.parametrize(("failure", "raised"), FAILURES.values(), ids=FAILURES.keys())
def test_a_failed_run_leaves_the_reset_account_holders_request_open_for_the_next_run(
    failure: Callable[[pytest.MonkeyPatch], None],
    raised: type[Exception],
    monkeypatch: pytest.MonkeyPatch,
    agent: Any,
    account: Account,
    alice: InsuredPerson,
) -> None:
    reset_code_channel(account, staff=agent, reason="Téléphone volé")
    with monkeypatch.context() as patch:
        failure(patch)
        with pytest.raises(raised):
            generate_batch(staff=agent)

    assert not usable_letters(alice)
    assert open_requests().filter(person=alice).exists()
    assert alice in persons_needing_letters()

    batch = generate_batch(staff=agent)

    assert batch is not None
    assert batch.letter_count == 1
    (letter,) = usable_letters(alice)
    assert letter.batch == batch
    assert not open_requests().exists()
    assert alice not in persons_needing_letters()


def test_a_failed_command_run_leaves_the_request_open_for_the_next_run(
    monkeypatch: pytest.MonkeyPatch, agent: Any, account: Account, alice: InsuredPerson
) -> None:
    reset_code_channel(account, staff=agent, reason="Téléphone volé")
    with monkeypatch.context() as patch:
        break_rendering(patch)
        with pytest.raises(OSError, match="No space left on device"):
            run_command()

    assert open_requests().filter(person=alice).exists()

    assert run_command().startswith("1 courrier d'activation émis, en 1 lot.")
    assert usable_letters(alice)
    assert not open_requests().exists()


def test_a_request_is_closed_with_the_batch_not_when_its_letter_is_written(
    monkeypatch: pytest.MonkeyPatch, agent: Any, account: Account, alice: InsuredPerson
) -> None:
    reset_code_channel(account, staff=agent, reason="Téléphone volé")
    open_while_printing: list[bool] = []
    render = letter_pdf.render_letters

    def render_and_look(pages: Iterable[LetterPage], output: IO[bytes], **kwargs: Any) -> int:
        open_while_printing.append(open_requests().filter(person=alice).exists())
        return render(pages, output, **kwargs)

    monkeypatch.setattr(letters, "render_letters", render_and_look)

    batch = generate_batch(staff=agent)

    assert open_while_printing == [True]
    request = alice.letter_requests.get()
    assert batch is not None
    assert request.fulfilled_at is not None
    assert request.fulfilled_at >= batch.created_at


def test_a_reissue_while_the_batch_prints_keeps_its_request_for_the_next_run(
    monkeypatch: pytest.MonkeyPatch, agent: Any, account: Account, alice: InsuredPerson
) -> None:
    """The re-issue voids the letter being printed and finds the request still open:
    the run must not close it when it attaches that letter."""
    reset_code_channel(account, staff=agent, reason="Téléphone volé")
    render = letter_pdf.render_letters

    def reissue_meanwhile(pages: Iterable[LetterPage], output: IO[bytes], **kwargs: Any) -> int:
        reissue_letter(alice, staff=agent, reason="Rappelle : a déménagé")
        return render(pages, output, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(letters, "render_letters", reissue_meanwhile)
        first = generate_batch(staff=agent)

    assert first is not None
    (printed,) = first.letters.all()
    assert printed.voided_at is not None
    assert not usable_letters(alice)
    assert open_requests().filter(person=alice).exists()

    second = generate_batch(staff=agent)

    assert second is not None
    (letter,) = usable_letters(alice)
    assert letter.batch == second
    assert not open_requests().exists()


# One run at a time.


class RecordedLock:
    """Stands for the run lock on any database: whether it is held, and how deep."""

    def __init__(self, *, held_elsewhere: bool = False) -> None:
        self.held_elsewhere = held_elsewhere
        self.depth = 0
        self.taken = 0

    def take(self) -> bool:
        if self.held_elsewhere:
            return False
        self.depth += 1
        self.taken += 1
        return True

    def release(self) -> None:
        self.depth -= 1

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(letters, "_take_run_lock", self.take)
        monkeypatch.setattr(letters, "_release_run_lock", self.release)


def test_generer_and_the_command_are_refused_while_another_run_holds_the_lock(
    monkeypatch: pytest.MonkeyPatch, agent: Any, alice: InsuredPerson
) -> None:
    reissue_letter(alice, staff=agent, reason="Courrier perdu")
    RecordedLock(held_elsewhere=True).install(monkeypatch)

    with pytest.raises(LetterRunInProgress) as refused:
        generate_batch(staff=agent)
    with pytest.raises(CommandError, match=BUSY):
        run_command()

    assert str(refused.value) == BUSY
    assert not ActivationLetter.objects.exists()
    assert open_requests().filter(person=alice).exists()
    assert not AuditEvent.objects.filter(
        event_type=EventType.HELPDESK_ACTION, details__action="generate_batch"
    ).exists()


def test_generer_says_so_in_french_while_another_run_holds_the_lock(
    monkeypatch: pytest.MonkeyPatch, printer_client: Client, agent: Any, alice: InsuredPerson
) -> None:
    reissue_letter(alice, staff=agent, reason="Courrier perdu")
    RecordedLock(held_elsewhere=True).install(monkeypatch)

    refused = printer_client.post(reverse("helpdesk:batch_generate"), follow=True)

    assert refused.status_code == 200
    assert BUSY in page_text(refused)
    assert not ActivationLetter.objects.exists()


def click(staff: Any) -> Callable[[], object]:
    return lambda: generate_batch(staff=staff)


@pytest.mark.parametrize("entry_point", ["helpdesk", "command"])
def test_every_run_holds_the_lock_from_the_choice_of_people_to_the_batch(
    entry_point: str, monkeypatch: pytest.MonkeyPatch, agent: Any, alice: InsuredPerson
) -> None:
    reissue_letter(alice, staff=agent, reason="Courrier perdu")
    lock = RecordedLock()
    lock.install(monkeypatch)
    depth_when: dict[str, int] = {}
    choose_helpdesk, choose_command = actions.open_requests, letters.persons_needing_letters
    render = letter_pdf.render_letters

    def chosen_for_helpdesk() -> Any:
        depth_when["choosing"] = lock.depth
        return choose_helpdesk()

    def chosen_for_command() -> Any:
        depth_when["choosing"] = lock.depth
        return choose_command()

    def render_and_look(pages: Iterable[LetterPage], output: IO[bytes], **kwargs: Any) -> int:
        depth_when["printing"] = lock.depth
        return render(pages, output, **kwargs)

    monkeypatch.setattr(actions, "open_requests", chosen_for_helpdesk)
    monkeypatch.setattr(issue_letters_command, "persons_needing_letters", chosen_for_command)
    monkeypatch.setattr(letters, "render_letters", render_and_look)

    if entry_point == "helpdesk":
        generate_batch(staff=agent)
    else:
        run_command()

    assert depth_when["choosing"] >= 1
    assert depth_when["printing"] >= 1
    assert lock.taken >= 1
    assert lock.depth == 0
    assert usable_letters(alice)


def test_a_failed_run_releases_the_lock(
    monkeypatch: pytest.MonkeyPatch, agent: Any, alice: InsuredPerson
) -> None:
    reissue_letter(alice, staff=agent, reason="Courrier perdu")
    lock = RecordedLock()
    lock.install(monkeypatch)
    break_rendering(monkeypatch)

    with pytest.raises(OSError, match="No space left on device"):
        generate_batch(staff=agent)

    assert lock.taken >= 1
    assert lock.depth == 0


# The same on PostgreSQL, with its real lock and two app servers at once.


@pytest.mark.postgres
@needs_postgresql
def test_generer_is_refused_while_the_command_runs_on_another_server(
    agent: Any, alice: InsuredPerson
) -> None:
    reissue_letter(alice, staff=agent, reason="Courrier perdu")
    other_server = connections.create_connection("default")
    try:
        with other_server.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [RUN_LOCK_KEY])
        with pytest.raises(LetterRunInProgress, match=BUSY):
            generate_batch(staff=agent)
        with other_server.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK_KEY])
    finally:
        other_server.close()

    assert not ActivationLetter.objects.exists()
    assert generate_batch(staff=agent) is not None
    assert usable_letters(alice)


def refused_or(run: Callable[[], object]) -> Callable[[], object]:
    def attempt() -> object:
        try:
            return run()
        except (LetterRunInProgress, CommandError) as busy:
            assert BUSY in str(busy)
            return "refused"

    return attempt


@pytest.mark.postgres
@needs_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_by", ["helpdesk", "command"])
def test_two_runs_at_once_leave_the_person_one_valid_letter(
    first_by: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second run starts while the first holds the person's old letter (voided in
    its open chunk transaction). Without one lock for both, the second would wait for
    that row, skip it once voided, not see the first run's new letter, and print a
    second valid one."""
    alice = make_person("Alice", "Martin", years_ago(41))
    issue_letters([alice], actor="test")
    request_new_letter(alice.matricule, ip_address=None)  # her old letter still works
    first_agent = get_user_model().objects.create_user(username="agent.dupont")
    second_agent = get_user_model().objects.create_user(username="agent.weber")
    first_actor = f"staff:{first_agent.pk}" if first_by == "helpdesk" else "command:issue-letters"
    first_holds_the_old_letter, second_done = threading.Event(), threading.Event()
    void = letters.void_unused_letters

    def void_then_let_the_second_start(persons: Any, *, actor: str, now: Any) -> None:
        void(persons, actor=actor, now=now)
        if actor == first_actor:
            first_holds_the_old_letter.set()
            # Without the lock the second run waits for this transaction: go on anyway.
            second_done.wait(timeout=5)

    monkeypatch.setattr(letters, "void_unused_letters", void_then_let_the_second_start)
    first = refused_or(click(first_agent) if first_by == "helpdesk" else run_command)
    second_click = refused_or(click(second_agent))

    def second() -> object:
        assert first_holds_the_old_letter.wait(timeout=5)
        try:
            return second_click()
        finally:
            second_done.set()

    results = run_together([first, second])

    assert "refused" in results
    (letter,) = usable_letters(alice)
    assert LetterBatch.objects.filter(letters__person=alice).count() == 2  # old + new
    assert letter.batch == LetterBatch.objects.latest("pk")
    assert not open_requests().exists()
