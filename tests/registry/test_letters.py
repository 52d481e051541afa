"""Activation letters: codes, issuing, checking, consuming, the outbox and the command."""

from __future__ import annotations

import collections
import datetime
import hashlib
import hmac
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from django.db import connections

from esante.audit.models import AuditEvent, EventType
from esante.notifications.actions import REDACTED
from esante.notifications.models import Channel, DeliveryState, OutboundMessage
from esante.registry import letter_pdf, letter_render, letters, matricule
from esante.registry.letter_pdf import LetterPage
from esante.registry.letters import (
    CODE_ALPHABET,
    RUN_LOCK_KEY,
    CodeOutcome,
    check_letter_code,
    consume_letter,
    format_code,
    hash_code,
    issue_letters,
    new_code,
    normalize_code,
    persons_needing_letters,
)
from esante.registry.models import ActivationLetter, InsuredPerson, LetterBatch
from tests.concurrency import in_threads, needs_postgresql
from tests.factories import make_person, years_ago
from tests.registry.test_letter_pdf import page_count, page_texts

pytestmark = pytest.mark.django_db

LUXEMBOURG = ZoneInfo("Europe/Luxembourg")


@pytest.fixture(autouse=True)
def letters_dir(settings: Any, tmp_path: Path) -> Path:
    location = tmp_path / "letters"
    settings.STORAGES = {
        **settings.STORAGES,
        "letters": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    settings.ESANTE_DEMO = False
    return location


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The code printed on each person's last letter, by matricule (read from the pages
    handed to the real renderer: the only place a code exists)."""
    codes: dict[str, str] = {}
    render = letter_pdf.render_letters

    def render_and_remember(pages: Iterable[LetterPage], output: IO[bytes], **kwargs: Any) -> int:
        pages = list(pages)
        codes.update((page.matricule, page.code) for page in pages)
        return render(pages, output, **kwargs)

    monkeypatch.setattr(letters, "render_letters", render_and_remember)
    return codes


def issue(*persons: InsuredPerson) -> LetterBatch:
    batch = issue_letters(persons, actor="test")
    assert batch is not None
    return batch


def letter_of(person: InsuredPerson) -> ActivationLetter:
    return ActivationLetter.objects.filter(person=person).latest("issued_at", "pk")


def wrong_code(right: str) -> str:
    """A well-formed code that is not `right`."""
    code = normalize_code(right)
    assert code is not None
    replacement = CODE_ALPHABET[(CODE_ALPHABET.index(code[0]) + 1) % len(CODE_ALPHABET)]
    return replacement + code[1:]


# Codes.


def test_codes_are_unique_and_well_formed_over_100000() -> None:
    codes = [new_code() for _index in range(100_000)]

    assert len(set(codes)) == len(codes)
    assert all(len(code) == 12 and set(code) <= set(CODE_ALPHABET) for code in codes)
    # Every symbol is drawn, about equally often (1.2 million draws: ±3 % is > 10 sigma).
    counts = collections.Counter("".join(codes))
    expected = 12 * len(codes) / len(CODE_ALPHABET)
    assert set(counts) == set(CODE_ALPHABET)
    assert all(abs(count - expected) < 0.03 * expected for count in counts.values())


def test_the_alphabet_has_no_look_alike_characters() -> None:
    assert len(CODE_ALPHABET) == len(set(CODE_ALPHABET)) == 23
    assert CODE_ALPHABET.isupper()
    assert CODE_ALPHABET.isalnum()
    assert CODE_ALPHABET.isascii()
    assert not set(CODE_ALPHABET) & set("0O1IL5S2Z8B6G")


def test_a_code_is_printed_as_three_groups_of_four() -> None:
    assert format_code("K7QM4XPA9TRE") == "K7QM-4XPA-9TRE"


@pytest.mark.parametrize(
    "typed",
    [
        "K7QM-4XPA-9TRE",
        "k7qm-4xpa-9tre",
        "K7QM4XPA9TRE",
        "k7qm 4xpa 9tre",
        "  K7QM - 4XPA - 9TRE  ",
        "K7QM\u20134XPA\u20139TRE",  # en dashes, as word processors print them
        "K7QM\u00a04XPA\u00a09TRE",
        "K7Qm4xPA9tRe",
    ],
)
def test_a_code_is_typed_back_in_any_case_with_or_without_dashes_or_spaces(typed: str) -> None:
    assert normalize_code(typed) == "K7QM4XPA9TRE"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "K7QM-4XPA-9TR",  # 11 symbols
        "K7QM-4XPA-9TREE",  # 13
        "O7QM-4XPA-9TRE",  # O is not in the alphabet
        "K7QM-4XPA-9TR0",  # nor 0
        "K7QM_4XPA_9TRE",
        "K7QM.4XPA.9TRE",
    ],
)
def test_what_cannot_be_a_code_is_not_normalized(typed: str) -> None:
    assert normalize_code(typed) is None


def test_the_code_hash_is_an_hmac_under_the_code_key(settings: Any) -> None:
    settings.ESANTE_CODE_HMAC_KEY = "first-key"
    first = hash_code("K7QM4XPA9TRE")
    expected = hmac.new(b"first-key", b"activation-letter\0K7QM4XPA9TRE", hashlib.sha256)

    settings.ESANTE_CODE_HMAC_KEY = "second-key"

    assert first == expected.hexdigest()
    assert len(first) == 64
    assert hash_code("K7QM4XPA9TRE") != first


# Issuing.


def test_only_the_code_hash_is_stored(
    alice: InsuredPerson, bob: InsuredPerson, printed: dict[str, str]
) -> None:
    issue(alice, bob)

    codes = {printed[alice.matricule], printed[bob.matricule]}
    assert {letter_of(alice).code_hash, letter_of(bob).code_hash} == {
        hash_code(code.replace("-", "")) for code in codes
    }
    rows = [
        *ActivationLetter.objects.values(),
        *AuditEvent.objects.values(),
        *OutboundMessage.objects.values(),
        *LetterBatch.objects.values(),
    ]
    stored = json.dumps(rows, default=str)
    assert OutboundMessage.objects.count() == 2
    for code in codes:
        assert code not in stored
        assert code.replace("-", "") not in stored


def test_the_outbox_gets_one_masked_letter_message_per_letter(
    alice: InsuredPerson, lea: InsuredPerson, printed: dict[str, str]
) -> None:
    batch = issue(alice, lea)

    messages = OutboundMessage.objects.order_by("pk")
    assert [message.person for message in messages] == [alice, lea]
    alice_message, lea_message = messages
    assert alice_message.channel == Channel.LETTER
    assert alice_message.recipient == "Alice Martin, 12, rue de la Gare, L-1611 Luxembourg"
    assert lea_message.recipient.startswith("Aux parents de Léa Martin, ")
    assert alice_message.subject == "Courrier d'activation eSanté"
    assert alice_message.state == DeliveryState.SENT
    assert alice_message.sent_at is not None
    assert alice_message.letter_batch == batch
    assert alice.matricule in alice_message.body
    assert f"Code d'activation : {REDACTED}" in alice_message.body
    assert printed[alice.matricule] not in alice_message.body
    assert alice_message.redacted_body == ""  # nothing to mask


def test_in_demo_mode_the_letter_message_shows_the_code(
    settings: Any, alice: InsuredPerson, printed: dict[str, str]
) -> None:
    settings.ESANTE_DEMO = True

    issue(alice)

    message = OutboundMessage.objects.get(person=alice)
    assert "Alice Martin" in message.body
    assert alice.matricule in message.body
    assert f"Code d'activation : {printed[alice.matricule]}" in message.body
    assert printed[alice.matricule] not in message.redacted_body
    assert REDACTED in message.redacted_body


def test_issuing_writes_an_audit_event_per_letter_and_one_for_the_batch(
    alice: InsuredPerson, bob: InsuredPerson
) -> None:
    batch = issue(alice, bob)

    issued = AuditEvent.objects.filter(event_type=EventType.LETTER_ISSUED)
    assert len(issued) == 2
    assert {event.person_id for event in issued} == {alice.pk, bob.pk}
    assert {event.details["letter_id"] for event in issued} == set(
        batch.letters.values_list("pk", flat=True)
    )
    assert {event.actor for event in issued} == {"test"}
    rendered = AuditEvent.objects.get(event_type=EventType.LETTER_BATCH_RENDERED)
    assert rendered.details == {
        "batch_id": batch.pk,
        "letter_count": 2,
        "pdf_name": batch.pdf_name,
    }


def test_a_batch_is_one_pdf_even_over_several_chunks(letters_dir: Path) -> None:
    persons = [make_person(f"Personne{index}", "Test") for index in range(7)]

    batch = issue_letters(persons, actor="test", chunk_size=3)

    assert batch is not None
    assert batch.letter_count == 7
    assert batch.letters.count() == 7
    assert batch.messages.count() == 7
    (pdf,) = letters_dir.iterdir()
    assert pdf.name == batch.pdf_name
    assert page_count(pdf.read_bytes()) == 7
    first_lines = [texts[0] for texts in page_texts(pdf.read_bytes())]
    assert first_lines == [person.full_name for person in persons]


def test_a_large_run_draws_its_pages_in_a_second_process_meanwhile(letters_dir: Path) -> None:
    persons = [make_person(f"Personne{index}", "Test") for index in range(7)]
    progress: list[tuple[str, int]] = []

    batch = issue_letters(
        persons,
        actor="test",
        chunk_size=3,
        pipeline_from=1,
        progress=lambda stage, count: progress.append((stage, count)),
    )

    assert batch is not None
    assert {letter.person for letter in ActivationLetter.objects.usable()} == set(persons)
    (pdf,) = letters_dir.iterdir()
    first_lines = [texts[0] for texts in page_texts(pdf.read_bytes())]
    assert first_lines == [person.full_name for person in persons]
    assert sum(count for stage, count in progress if stage == "rendered") == 7
    assert sum(count for stage, count in progress if stage == "issued") == 7


def test_a_failure_in_the_drawing_process_leaves_no_usable_letter(
    letters_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    persons = [make_person(f"Personne{index}", "Test") for index in range(4)]

    def broken_renderer(pages: Iterable[LetterPage], output: IO[bytes], **kwargs: Any) -> int:
        raise OSError("printer on fire")

    monkeypatch.setattr(letter_render, "render_letters", broken_renderer)

    with pytest.raises(letter_render.RenderingFailed, match="printer on fire"):
        issue_letters(persons, actor="test", chunk_size=2, pipeline_from=1)

    assert not ActivationLetter.objects.usable().exists()
    assert not list(letters_dir.iterdir()) if letters_dir.exists() else True
    assert set(persons_needing_letters()) == set(persons)


def test_a_person_given_twice_gets_one_letter(alice: InsuredPerson) -> None:
    batch = issue(alice, alice)

    assert batch.letter_count == 1


def test_the_dead_get_no_letter(alice: InsuredPerson) -> None:
    dead = make_person("Roger", "Meyer", years_ago(86), date_of_death=datetime.date(2025, 12, 2))

    assert issue_letters([dead], actor="test") is None
    batch = issue(alice, dead)

    assert batch.letter_count == 1
    assert not ActivationLetter.objects.filter(person=dead).exists()
    assert dead not in persons_needing_letters()


def test_persons_needing_letters_are_those_without_a_usable_letter(
    alice: InsuredPerson, bob: InsuredPerson
) -> None:
    issued_at = datetime.datetime(2026, 1, 10, 9, 0, tzinfo=LUXEMBOURG)
    with time_machine.travel(issued_at, tick=False):
        issue(alice)
        assert set(persons_needing_letters()) == {bob}

    with time_machine.travel(datetime.datetime(2026, 4, 11, 0, 0, tzinfo=LUXEMBOURG)):
        assert set(persons_needing_letters()) == {alice, bob}  # Alice's code has expired


def test_a_new_letter_voids_the_previous_one(alice: InsuredPerson, printed: dict[str, str]) -> None:
    issue(alice)
    first_letter, first_code = letter_of(alice), printed[alice.matricule]

    issue(alice)

    first_letter.refresh_from_db()
    assert first_letter.voided_at is not None
    voided = AuditEvent.objects.get(event_type=EventType.LETTER_VOIDED)
    assert voided.person == alice
    assert voided.details == {"letter_id": first_letter.pk, "reason": "reissued"}
    check = check_letter_code(alice.matricule, first_code)
    assert check.outcome is CodeOutcome.VOIDED
    assert check.letter == first_letter
    assert check_letter_code(alice.matricule, printed[alice.matricule]).ok
    assert not consume_letter(first_letter.pk)


def test_a_failed_rendering_leaves_no_usable_letter_and_the_next_run_issues_again(
    alice: InsuredPerson, monkeypatch: pytest.MonkeyPatch, letters_dir: Path
) -> None:
    unprinted: list[str] = []

    def broken_renderer(pages: Iterable[LetterPage], output: IO[bytes], **kwargs: Any) -> int:
        unprinted.extend(page.code for page in pages)
        raise OSError("printer spool full")

    with monkeypatch.context() as patch:
        patch.setattr(letters, "render_letters", broken_renderer)
        with pytest.raises(OSError, match="printer spool full"):
            issue_letters([alice], actor="test")

    (letter,) = ActivationLetter.objects.filter(person=alice)
    assert letter.batch is None
    assert not ActivationLetter.objects.usable().exists()
    assert not LetterBatch.objects.exists()
    assert not letters_dir.exists() or not any(letters_dir.iterdir())
    message = OutboundMessage.objects.get(person=alice)
    assert message.state == DeliveryState.FAILED
    assert "printer spool full" in message.last_error
    assert check_letter_code(alice.matricule, unprinted[0]).outcome is CodeOutcome.NO_LETTER
    assert not consume_letter(letter.pk)
    assert alice in persons_needing_letters()

    batch = issue_letters(persons_needing_letters(), actor="test")

    assert batch is not None
    assert batch.letter_count == 1
    letter.refresh_from_db()
    assert letter.voided_at is not None
    assert ActivationLetter.objects.usable().get().person == alice
    assert alice not in persons_needing_letters()


def test_a_database_failure_after_rendering_leaves_no_pdf_to_post(
    alice: InsuredPerson, monkeypatch: pytest.MonkeyPatch, letters_dir: Path
) -> None:
    def broken_attach(*args: Any, **kwargs: Any) -> LetterBatch:
        raise RuntimeError("connection lost")

    monkeypatch.setattr(letters, "attach_to_batch", broken_attach)

    with pytest.raises(RuntimeError):
        issue_letters([alice], actor="test")

    assert list(letters_dir.iterdir()) == []
    assert not ActivationLetter.objects.usable().exists()


# Checking and consuming a code.


def test_the_right_code_is_accepted_however_it_is_typed(
    alice: InsuredPerson, printed: dict[str, str]
) -> None:
    issue(alice)
    typed = printed[alice.matricule].lower().replace("-", " ")
    spaced_matricule = f"{alice.matricule[:4]} {alice.matricule[4:8]} {alice.matricule[8:]}"

    check = check_letter_code(spaced_matricule, typed)

    assert check.ok
    assert check.letter == letter_of(alice)
    assert check.letter is not None and check.letter.person == alice


def test_a_code_is_refused_for_another_persons_matricule(
    alice: InsuredPerson, bob: InsuredPerson, printed: dict[str, str]
) -> None:
    issue(alice, bob)

    check = check_letter_code(bob.matricule, printed[alice.matricule])

    assert check.outcome is CodeOutcome.WRONG
    assert check.wrong_pair
    assert check.letter is None


def test_a_code_works_until_the_end_of_its_last_day(
    settings: Any, alice: InsuredPerson, printed: dict[str, str]
) -> None:
    settings.ESANTE_LETTER_CODE_DAYS = 90
    with time_machine.travel(datetime.datetime(2026, 1, 10, 9, 0, tzinfo=LUXEMBOURG), tick=False):
        issue(alice)
    code = printed[alice.matricule]

    last_minute = datetime.datetime(2026, 4, 10, 23, 59, 59, tzinfo=LUXEMBOURG)
    with time_machine.travel(last_minute, tick=False):
        assert check_letter_code(alice.matricule, code).ok

    with time_machine.travel(datetime.datetime(2026, 4, 11, 0, 0, tzinfo=LUXEMBOURG), tick=False):
        check = check_letter_code(alice.matricule, code)
        assert check.outcome is CodeOutcome.EXPIRED
        assert check.letter == letter_of(alice)
        assert not consume_letter(letter_of(alice).pk)


def test_a_code_works_once(alice: InsuredPerson, printed: dict[str, str]) -> None:
    issue(alice)
    check = check_letter_code(alice.matricule, printed[alice.matricule])
    assert check.letter is not None

    assert consume_letter(check.letter.pk)
    assert not consume_letter(check.letter.pk)

    again = check_letter_code(alice.matricule, printed[alice.matricule])
    assert again.outcome is CodeOutcome.USED
    letter_of(alice).refresh_from_db()
    assert letter_of(alice).used_at is not None


def test_the_letter_locks_at_the_fifth_wrong_code(
    settings: Any, alice: InsuredPerson, printed: dict[str, str]
) -> None:
    settings.ESANTE_LETTER_CODE_MAX_ATTEMPTS = 5
    issue(alice)
    right = printed[alice.matricule]
    wrong = wrong_code(right)

    for attempt in range(1, 5):
        assert check_letter_code(alice.matricule, wrong, ip_address="192.0.2.7").outcome is (
            CodeOutcome.WRONG
        )
        letter = letter_of(alice)
        assert (letter.failed_attempts, letter.locked_at) == (attempt, None)

    assert check_letter_code(alice.matricule, wrong).outcome is CodeOutcome.WRONG
    letter = letter_of(alice)
    assert letter.failed_attempts == 5
    assert letter.locked_at is not None

    failed = AuditEvent.objects.filter(event_type=EventType.LETTER_CODE_FAILED, person=alice)
    assert sorted(event.details["failed_attempts"] for event in failed) == [1, 2, 3, 4, 5]
    assert failed.filter(ip_address="192.0.2.7").count() == 4
    locked = AuditEvent.objects.get(event_type=EventType.LETTER_LOCKED)
    assert locked.details["letter_id"] == letter.pk

    # The sixth try says locked, with the right code as with a wrong one.
    with_right_code = check_letter_code(alice.matricule, right)
    assert with_right_code.outcome is CodeOutcome.LOCKED
    assert with_right_code.letter == letter
    assert check_letter_code(alice.matricule, wrong).outcome is CodeOutcome.LOCKED
    assert letter_of(alice).failed_attempts == 5
    assert not consume_letter(letter.pk)


def test_a_new_letter_replaces_a_locked_one(
    settings: Any, alice: InsuredPerson, printed: dict[str, str]
) -> None:
    settings.ESANTE_LETTER_CODE_MAX_ATTEMPTS = 2
    issue(alice)
    wrong = wrong_code(printed[alice.matricule])
    check_letter_code(alice.matricule, wrong)
    check_letter_code(alice.matricule, wrong)
    assert letter_of(alice).locked_at is not None
    assert alice in persons_needing_letters()

    issue(alice)

    assert check_letter_code(alice.matricule, printed[alice.matricule]).ok


def test_an_unknown_matricule_reads_as_a_wrong_pair_and_is_still_hashed(
    alice: InsuredPerson, printed: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    issue(alice)
    hashed: list[str] = []
    real_hash = letters.hash_codes

    def counting_hash(code: str) -> list[str]:
        hashed.append(code)
        return real_hash(code)

    monkeypatch.setattr(letters, "hash_codes", counting_hash)
    events_before = AuditEvent.objects.count()

    unknown = check_letter_code("1999010112345", printed[alice.matricule])
    known_wrong = check_letter_code(alice.matricule, wrong_code(printed[alice.matricule]))

    assert unknown.outcome is CodeOutcome.NO_LETTER
    assert unknown.wrong_pair and known_wrong.wrong_pair
    assert unknown.letter is None and known_wrong.letter is None
    assert len(hashed) == 2  # the HMAC was computed for the unknown matricule too
    # Only the try against Alice's real letter is counted and audited.
    assert AuditEvent.objects.count() == events_before + 1


def test_a_person_without_a_letter_reads_as_a_wrong_pair(bob: InsuredPerson) -> None:
    check = check_letter_code(bob.matricule, "K7QM-4XPA-9TRE")

    assert check.outcome is CodeOutcome.NO_LETTER
    assert check.wrong_pair
    assert not AuditEvent.objects.exists()


def test_a_malformed_code_is_not_counted(alice: InsuredPerson) -> None:
    issue(alice)

    check = check_letter_code(alice.matricule, "K7QM-4XPA")

    assert check.outcome is CodeOutcome.MALFORMED
    assert not check.wrong_pair
    assert letter_of(alice).failed_attempts == 0


def test_an_unprinted_letter_cannot_be_consumed(alice: InsuredPerson) -> None:
    letter = ActivationLetter.objects.create(
        person=alice,
        code_hash=hash_code(new_code()),
        expires_at=letters.code_expiry(datetime.datetime.now(tz=LUXEMBOURG)),
    )

    assert not consume_letter(letter.pk)


# The command.


def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command("issue_letters", *args, stdout=out, stderr=io.StringIO(), verbosity=0)
    return out.getvalue()


def test_the_command_writes_to_everyone_who_needs_a_letter(
    alice: InsuredPerson, bob: InsuredPerson, lea: InsuredPerson, letters_dir: Path
) -> None:
    make_person("Roger", "Meyer", years_ago(86), date_of_death=datetime.date(2025, 12, 2))

    output = run_command()

    batch = LetterBatch.objects.get()
    assert batch.letter_count == 3
    pdf = letters_dir / batch.pdf_name
    assert output == (
        f"3 courriers d'activation émis, en 1 lot.\nLot {batch.pk} : 3 pages à imprimer : {pdf}\n"
    )
    assert page_count(pdf.read_bytes()) == 3
    assert AuditEvent.objects.filter(actor="command:issue-letters").count() == 4

    assert run_command() == "Aucun courrier à émettre.\n"
    assert LetterBatch.objects.count() == 1


def test_the_command_reissues_for_given_matricules(
    alice: InsuredPerson, bob: InsuredPerson, printed: dict[str, str]
) -> None:
    run_command()
    old_code = printed[alice.matricule]

    output = run_command("--matricule", alice.matricule)

    assert output.startswith("1 courrier d'activation émis, en 1 lot.")
    assert check_letter_code(alice.matricule, old_code).outcome is CodeOutcome.VOIDED
    assert check_letter_code(alice.matricule, printed[alice.matricule]).ok
    assert ActivationLetter.objects.filter(person=bob).count() == 1


def test_the_command_takes_several_matricules_and_a_limit(
    alice: InsuredPerson, bob: InsuredPerson, charlie: InsuredPerson
) -> None:
    run_command("--matricule", alice.matricule, "--matricule", bob.matricule)
    assert ActivationLetter.objects.count() == 2
    assert not ActivationLetter.objects.filter(person=charlie).exists()

    output = run_command("--limit", "1")

    assert output.startswith("1 courrier d'activation émis")
    assert ActivationLetter.objects.filter(person=charlie).count() == 1


def test_a_run_larger_than_the_batch_size_makes_several_batches(letters_dir: Path) -> None:
    persons = [make_person(f"Personne{index}", "Test") for index in range(5)]

    output = run_command("--batch-size", "2", "--chunk-size", "1")

    batches = list(LetterBatch.objects.order_by("pk"))
    assert [batch.letter_count for batch in batches] == [2, 2, 1]
    assert output.startswith("5 courriers d'activation émis, en 3 lots.\n")
    for batch, pages in zip(batches, ["2 pages", "2 pages", "1 page"], strict=True):
        assert f"Lot {batch.pk} : {pages} à imprimer" in output
        assert page_count((letters_dir / batch.pdf_name).read_bytes()) == batch.letter_count
    assert {letter.person for letter in ActivationLetter.objects.usable()} == set(persons)
    assert ActivationLetter.objects.count() == 5


def test_the_command_refuses_unknown_matricules(alice: InsuredPerson) -> None:
    with pytest.raises(CommandError, match="Matricule inconnu : 1999010112345"):
        run_command("--matricule", alice.matricule, "--matricule", "1999010112345")

    assert not ActivationLetter.objects.exists()


# Races between servers (PostgreSQL: SQLite serializes every write).


@pytest.mark.postgres
@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_code_consumed_by_20_requests_at_once_works_exactly_once() -> None:
    person = make_person("Alice", "Martin", years_ago(41))
    issue(person)
    letter = letter_of(person)

    results = in_threads(20, lambda: consume_letter(letter.pk))

    assert sorted(results) == [False] * 19 + [True]


@pytest.mark.postgres
@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_wrong_codes_typed_at_once_count_each_and_lock_once(
    printed: dict[str, str],
) -> None:
    person = make_person("Alice", "Martin", years_ago(41))
    issue(person)
    wrong = wrong_code(printed[person.matricule])

    results = in_threads(12, lambda: check_letter_code(person.matricule, wrong).outcome)

    letter = letter_of(person)
    assert letter.failed_attempts == 5
    assert letter.locked_at is not None
    assert results.count(CodeOutcome.WRONG) >= 5
    assert AuditEvent.objects.filter(event_type=EventType.LETTER_CODE_FAILED).count() == 5
    assert AuditEvent.objects.filter(event_type=EventType.LETTER_LOCKED).count() == 1


@pytest.mark.postgres
@needs_postgresql
def test_a_second_run_is_refused_while_one_is_in_progress(alice: InsuredPerson) -> None:
    other_server = connections.create_connection("default")
    try:
        with other_server.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [RUN_LOCK_KEY])
        with pytest.raises(CommandError, match="Un autre envoi de courriers est en cours"):
            run_command()
        with other_server.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK_KEY])
    finally:
        other_server.close()

    assert not ActivationLetter.objects.exists()
    run_command()
    assert ActivationLetter.objects.filter(person=alice).count() == 1


# The letter's language -----------------------------------------------------------------------


def test_a_first_letter_is_in_the_language_the_feed_gave(tmp_path: Path, settings: Any) -> None:
    settings.ESANTE_DEMO = True  # the outbox shows the letter's text
    born = datetime.date(1985, 4, 12)
    feed = tmp_path / "assures.csv"
    feed.write_text(
        "matricule,last_name,first_name,address_line1,postal_code,locality,language\n"
        f"{matricule.make(born, 1)},Martin,Alice,12 rue de la Gare,L-1611,Luxembourg,de\n"
        f"{matricule.make(born, 2)},Martin,Bob,12 rue de la Gare,L-1611,Luxembourg,\n",
        encoding="utf-8",
    )
    call_command("import_registry", str(feed), stdout=io.StringIO())
    alice, bob = InsuredPerson.objects.order_by("first_name")

    with time_machine.travel(datetime.datetime(2026, 1, 10, 9, tzinfo=LUXEMBOURG), tick=False):
        batch = issue_letters([alice, bob], actor="test")

    assert batch is not None
    to_alice, to_bob = OutboundMessage.objects.filter(channel=Channel.LETTER).order_by("pk")
    assert to_alice.subject == "eSanté-Aktivierungsschreiben"
    assert "Gültig bis einschließlich 10. April 2026." in to_alice.body
    assert to_bob.subject == "Courrier d'activation eSanté"
    assert "Valable jusqu'au 10 avril 2026 inclus." in to_bob.body
    with storages["letters"].open(batch.pdf_name) as pdf:
        alice_page, bob_page = page_texts(pdf.read())
    assert "Gültig bis einschließlich 10. April 2026" in alice_page
    assert "Valable jusqu'au 10 avril 2026 inclus" in bob_page
