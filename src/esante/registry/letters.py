"""Activation letters: their codes, issuing them by batches, checking and consuming a code.

A letter carries one activation code of 12 characters, printed as three groups of four
(`K7QM-4XPA-9TRE`) and typed back in any case, with or without dashes or spaces. The
alphabet leaves out every character that reads like another in print or when copied by
hand — 0 and O, 1, I and L, 5 and S, 2 and Z, 8 and B, 6 and G — and keeps 23 symbols:

    3 4 7 9 A C D E F H J K M N P Q R T U V W X Y

so a code holds 12 × log2(23) ≈ 54 bits, and 5 guesses against a letter succeed once in
4 × 10^15. Codes are drawn with `secrets`; only their HMAC-SHA256 under
`ESANTE_CODE_HMAC_KEY` is stored. The plain code exists only in the batch PDF and, in
demo mode only, in the letter's outbox message.

A code works until the end of the day `ESANTE_LETTER_CODE_DAYS` days after its letter
was issued, once, and only while no newer letter has been issued to the same person; the
`ESANTE_LETTER_CODE_MAX_ATTEMPTS`-th wrong code typed against it locks it.

Issuing is built so that nothing is lost or half-written: a letter is part of the post
only once its batch PDF is written (`ActivationLetter.batch` is null until then, and
`usable()` requires a batch). A run (1) creates the letters, voids the older ones, writes
the audit events and one outbox message per letter, by chunks of a few thousand people
per transaction, keeping the codes in memory; (2) renders the PDF into the private
"letters" storage; (3) in one last transaction creates the `LetterBatch` and attaches
the letters and messages to it, and closes the requests for a new letter that the run
answers. In a large run (2) overlaps (1): a second process draws each chunk's pages as
soon as the chunk is committed. If (1), (2) or (3) fails, the letters already created
stay unusable and their requests open, so the people concerned are picked again by the
next run (an account holder is picked only on an open request).

One run at a time, whoever starts it (`esante issue-letters`, the print side's "Générer"):
see `single_run`.
"""

from __future__ import annotations

import contextlib
import datetime
import enum
import hmac
import logging
import secrets
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from esante.audit.actions import record_event, record_events
from esante.audit.models import AuditEvent, EventType
from esante.keyed_hash import keyed_hash, keyed_hashes
from esante.notifications.actions import REDACTED
from esante.notifications.models import Channel, DeliveryState, OutboundMessage
from esante.registry import matricule as matricule_rules
from esante.registry import signals
from esante.registry.letter_pdf import LetterPage, dsp_paragraph, long_date, render_letters
from esante.registry.letter_render import PipelinedRenderer
from esante.registry.models import ActivationLetter, InsuredPerson, LetterBatch, LetterRequest

logger = logging.getLogger(__name__)

CODE_ALPHABET = "3479ACDEFHJKMNPQRTUVWXY"
CODE_KIND = "activation-letter"  # in the hashed message: see esante.keyed_hash
CODE_LENGTH = 12
CODE_GROUP = 4
# From this many letters in a run, pages are drawn in a second process meanwhile.
PIPELINE_FROM = 10_000
# People per transaction when issuing: large enough for bulk inserts to pay, small enough
# for a transaction to stay short.
CHUNK_SIZE = 5000
# A chunk draws fresh codes when one hashes like a stored one (with a million letters
# stored, once in some 200,000 runs of 100,000): more collisions in a row mean a bug.
CODE_DRAWS = 3
# Key of the PostgreSQL advisory lock held during a run ("esanteL" as a number).
RUN_LOCK_KEY = 0x65_73_61_6E_74_65_4C

_CODE_SYMBOLS = frozenset(CODE_ALPHABET)
_CODE_SPACE = len(CODE_ALPHABET) ** CODE_LENGTH
_DASHES = str.maketrans("", "", "-\u2010\u2011\u2012\u2013\u2014\u2212")


# Codes.


def new_code() -> str:
    """A fresh activation code, 12 symbols of the alphabet, uniformly random."""
    number = secrets.randbelow(_CODE_SPACE)
    symbols = []
    for _position in range(CODE_LENGTH):
        number, index = divmod(number, len(CODE_ALPHABET))
        symbols.append(CODE_ALPHABET[index])
    return "".join(symbols)


def normalize_code(typed: str) -> str | None:
    """The code as stored in hashes (`K7QM4XPA9TRE`) from what a person typed, or None
    when it cannot be a code (wrong length, a symbol outside the alphabet)."""
    code = typed_symbols(typed)
    if len(code) != CODE_LENGTH or not _CODE_SYMBOLS.issuperset(code):
        return None
    return code


def typed_symbols(typed: str) -> str:
    """What a person typed as normalize_code reads it: spaces and dashes removed, in
    capitals. Its length is what a length error tells them they typed."""
    return "".join(typed.split()).translate(_DASHES).upper()


def foreign_symbols(typed: str) -> list[str]:
    """The characters typed that no code ever contains (O, I, 0, 1…), each once, in the
    order typed: what a malformed code's error names."""
    return list(dict.fromkeys(s for s in typed_symbols(typed) if s not in _CODE_SYMBOLS))


def format_code(code: str) -> str:
    """The printed form: three groups of four joined by dashes."""
    return "-".join(code[start : start + CODE_GROUP] for start in range(0, len(code), CODE_GROUP))


def hash_code(code: str) -> str:
    """The keyed hash (HMAC-SHA256, hex) of a normalized code, as stored in letters."""
    return keyed_hash(CODE_KIND, code)


def hash_codes(code: str) -> list[str]:
    """What a stored letter code's hash may be: under the current key, then each fallback
    of a rotation (esante.keyed_hash)."""
    return keyed_hashes(CODE_KIND, code)


def code_expiry(issued_at: datetime.datetime) -> datetime.datetime:
    """When a code issued at `issued_at` stops working: the end of its last day, local
    time, so that the printed "valable jusqu'au <date> inclus" is exact."""
    last_day = timezone.localdate(issued_at) + datetime.timedelta(
        days=settings.ESANTE_LETTER_CODE_DAYS
    )
    next_midnight = datetime.datetime.combine(
        last_day + datetime.timedelta(days=1), datetime.time()
    )
    return timezone.make_aware(next_midnight)


def last_valid_day(expires_at: datetime.datetime) -> datetime.date:
    """The last day a code works, as printed on its letter."""
    return timezone.localdate(expires_at - datetime.timedelta(microseconds=1))


# Checking and consuming a code (the activation wizard's step 1 and its end).


class CodeOutcome(enum.StrEnum):
    OK = "ok"  # the code matches a usable letter of this matricule
    # The code matches nothing, and the person has a usable letter: the try is counted
    # against it (the last allowed try locks it).
    WRONG = "wrong"
    # The code matches nothing, and the matricule is unknown or has no usable letter.
    # Show the same message as for WRONG: anything else tells who is in the registry.
    NO_LETTER = "no_letter"
    EXPIRED = "expired"  # the code matches a letter past its expiry
    VOIDED = "voided"  # the code matches a letter replaced by a newer one
    LOCKED = "locked"  # the matched letter, or else the person's current one, is locked
    USED = "used"  # the code matches a letter that has already activated an account
    MALFORMED = "malformed"  # not 12 symbols of the alphabet: a typo, never counted


@dataclass(frozen=True)
class CodeCheck:
    outcome: CodeOutcome
    # The letter concerned (with its person), except for WRONG, NO_LETTER and MALFORMED.
    letter: ActivationLetter | None = None
    # Whether the typed code is this letter's: only then may a page say more about the
    # letter than "wrong pair" (that it is used, expired, voided or locked).
    matched: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome is CodeOutcome.OK

    @property
    def wrong_pair(self) -> bool:
        """The answer that must read the same for an unknown matricule: a wrong code for
        a locked letter too, else a stranger would learn that the matricule has one."""
        if self.outcome is CodeOutcome.LOCKED:
            return not self.matched
        return self.outcome in (CodeOutcome.WRONG, CodeOutcome.NO_LETTER)


def check_letter_code(
    matricule: str, typed_code: str, *, actor: str = "anonymous", ip_address: str | None = None
) -> CodeCheck:
    """Check a matricule and activation code pair; count a wrong code against the
    person's usable letters, locking at the last allowed try.

    Does not consume the letter: `consume_letter` does, when the account is created.
    """
    code = normalize_code(typed_code)
    if code is None:
        return CodeCheck(CodeOutcome.MALFORMED)
    # Same work for an unknown matricule as for a known one: one hash, one query.
    code_hashes = hash_codes(code)
    now = timezone.now()
    letters = list(
        ActivationLetter.objects.select_related("person")
        .filter(person__matricule=matricule_rules.normalize(matricule), batch__isnull=False)
        .filter(Q(code_hash__in=code_hashes) | Q(used_at__isnull=True, voided_at__isnull=True))
        .order_by("-issued_at", "-pk")
    )
    matched = None
    for letter in letters:
        if any([hmac.compare_digest(letter.code_hash, each) for each in code_hashes]):
            matched = letter
    if matched is not None:
        return CodeCheck(letter_state(matched, now), matched, matched=True)

    usable = [letter for letter in letters if letter_state(letter, now) is CodeOutcome.OK]
    if usable:
        count_failed_attempt(usable[0].person, actor=actor, ip_address=ip_address, now=now)
        return CodeCheck(CodeOutcome.WRONG)
    locked = [letter for letter in letters if letter.locked_at is not None]
    if locked:
        return CodeCheck(CodeOutcome.LOCKED, locked[0])
    return CodeCheck(CodeOutcome.NO_LETTER)


def letter_state(letter: ActivationLetter, now: datetime.datetime) -> CodeOutcome:
    """Why a letter's code is refused, most useful reason first; OK when it is usable."""
    if letter.used_at is not None:
        return CodeOutcome.USED
    if letter.voided_at is not None:
        return CodeOutcome.VOIDED
    if letter.locked_at is not None:
        return CodeOutcome.LOCKED
    if letter.expires_at <= now:
        return CodeOutcome.EXPIRED
    return CodeOutcome.OK


@transaction.atomic
def count_failed_attempt(
    person: InsuredPerson, *, actor: str, ip_address: str | None, now: datetime.datetime
) -> None:
    """One more wrong code against each usable letter of the person, and the lock of any
    that reaches the limit: conditional UPDATEs, so concurrent tries each count."""
    usable = ActivationLetter.objects.usable(now).filter(person=person)
    if not usable.update(failed_attempts=F("failed_attempts") + 1):
        return  # used, locked or voided since it was read
    # The rows just updated stay locked by this transaction until it ends; a letter
    # issued meanwhile has no failed attempt.
    counted = list(usable.filter(failed_attempts__gt=0).values_list("pk", "failed_attempts"))
    limit = settings.ESANTE_LETTER_CODE_MAX_ATTEMPTS
    to_lock = [pk for pk, attempts in counted if attempts >= limit]
    if to_lock:
        ActivationLetter.objects.filter(pk__in=to_lock, locked_at__isnull=True).update(
            locked_at=now
        )
    for pk, attempts in counted:
        record_event(
            EventType.LETTER_CODE_FAILED,
            actor=actor,
            person=person,
            ip_address=ip_address,
            letter_id=pk,
            failed_attempts=attempts,
        )
    for pk in to_lock:
        record_event(
            EventType.LETTER_LOCKED,
            actor=actor,
            person=person,
            ip_address=ip_address,
            letter_id=pk,
            failed_attempts=limit,
        )


def consume_letter(letter_id: int) -> bool:
    """Use a letter's code up: True for exactly one caller, however many race for it,
    and only while the letter is still usable. Call it in the transaction that creates
    the account, so that a failed activation gives the code back."""
    now = timezone.now()
    return ActivationLetter.objects.usable(now).filter(pk=letter_id).update(used_at=now) == 1


# Who needs a letter.


def persons_needing_letters() -> QuerySet[InsuredPerson]:
    """Everyone alive without an account and either without a usable letter or with an
    open request for a new one (the letter was lost).

    People whose last run failed before its batch was attached are included: their
    letters were never posted, so they are not usable, and their requests are still open.
    """
    usable_letter = ActivationLetter.objects.usable().filter(person=OuterRef("pk"))
    open_request = LetterRequest.objects.filter(person=OuterRef("pk"), fulfilled_at__isnull=True)
    persons = InsuredPerson.objects.filter(date_of_death__isnull=True).filter(
        ~Exists(usable_letter) | Exists(open_request)
    )
    # The account filter: an activated person needs no letter. `Account.person` is a
    # one-to-one with related name "account" (esante.accounts), so this applies as soon
    # as that app is installed.
    if apps.is_installed("esante.accounts"):
        # With an account, only on request: the letter then re-activates the account.
        persons = persons.filter(Q(account__isnull=True) | Exists(open_request))
    return persons


# One run at a time.


class LetterRunInProgress(Exception):
    """Another letter run holds the lock: try again once it has finished."""


@contextlib.contextmanager
def single_run() -> Iterator[None]:
    """Hold the letter-run lock, or raise LetterRunInProgress if another run holds it.

    A second run started meanwhile would pick the same people (their new letters are not
    usable, nor their requests closed, until the first run attaches them to its batch)
    and, on PostgreSQL, could leave them two valid letters: its `select_for_update`
    waits for the first run's chunk, then skips the old letter that chunk voided and
    cannot see the new one. `issue_letters_for_ids` takes the lock; a caller that chooses
    the people first takes it around that choice too, so that no run it did not see
    changes them in between.

    A PostgreSQL session-level advisory lock: re-entrant within one connection (so the
    nested use above works), released if the process or its connection dies. SQLite
    serves one machine and one writer at a time (IMMEDIATE transactions), so a second
    run there sees the first one's letters and voids them: paper wasted, never two
    valid letters; no lock is taken.
    """
    if not _take_run_lock():
        raise LetterRunInProgress(
            _("Un autre envoi de courriers est en cours ; réessayez plus tard.")
        )
    try:
        yield
    finally:
        try:
            _release_run_lock()
        except DatabaseError:
            # The lock lives as long as the session: end it rather than leave the lock to
            # whoever reuses the connection.
            logger.exception("Could not release the letter run lock; closing the connection.")
            connection.close()


def _take_run_lock() -> bool:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [RUN_LOCK_KEY])
        row = cursor.fetchone()
    return bool(row and row[0])


def _release_run_lock() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK_KEY])


# Issuing letters.

Stage = Literal["issued", "rendered"]
Progress = Callable[[Stage, int], None]


@dataclass
class IssuedLetters:
    """What the chunks of a run have written so far, and the pages still to print."""

    letter_ids: list[int] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)
    pages: list[LetterPage] = field(default_factory=list)
    # The open requests for a new letter that the run answers: closed only when the
    # letters are attached to their batch, so that a run that stops before loses none.
    request_ids: list[int] = field(default_factory=list)

    def extend(self, chunk: IssuedLetters) -> None:
        self.letter_ids.extend(chunk.letter_ids)
        self.message_ids.extend(chunk.message_ids)
        self.pages.extend(chunk.pages)
        self.request_ids.extend(chunk.request_ids)


def issue_letters(
    persons: Iterable[InsuredPerson] | QuerySet[InsuredPerson],
    *,
    actor: str,
    chunk_size: int = CHUNK_SIZE,
    progress: Progress | None = None,
    pipeline_from: int | None = None,
) -> LetterBatch | None:
    """Issue one new letter to each living person given, voiding their unused letters,
    and print them all in one batch PDF. Returns the batch, or None when nobody given
    could get a letter. Raises, leaving the letters unusable and the requests open, if
    any step fails; raises LetterRunInProgress if another run is in progress."""
    if isinstance(persons, QuerySet):
        person_ids = list(persons.values_list("pk", flat=True))
    else:
        person_ids = [person.pk for person in persons]
    return issue_letters_for_ids(
        person_ids,
        actor=actor,
        chunk_size=chunk_size,
        progress=progress,
        pipeline_from=pipeline_from,
    )


def issue_letters_for_ids(
    person_ids: Sequence[int],
    *,
    actor: str,
    chunk_size: int = CHUNK_SIZE,
    progress: Progress | None = None,
    pipeline_from: int | None = None,
) -> LetterBatch | None:
    """`issue_letters` for the persons of these ids, in this order (the page order).

    From `PIPELINE_FROM` persons on, the pages are drawn in a second process while the
    next chunks are written (esante.registry.letter_render), which takes about half the
    time off a large run on a machine with two cores."""
    with single_run():
        return _letter_run(
            list(dict.fromkeys(person_ids)),  # once each, in the given order
            actor=actor,
            chunk_size=chunk_size,
            progress=progress,
            pipeline_from=pipeline_from,
        )


def _letter_run(
    person_ids: list[int],
    *,
    actor: str,
    chunk_size: int,
    progress: Progress | None,
    pipeline_from: int | None,
) -> LetterBatch | None:
    """Write, render, attach (or abandon): the run itself, under the lock."""
    now = timezone.now()
    issued = IssuedLetters()
    pdf_name = ""
    timer = Timer()
    renderer = None
    if len(person_ids) >= (PIPELINE_FROM if pipeline_from is None else pipeline_from):
        renderer = PipelinedRenderer(
            issued_on=timezone.localdate(now),
            progress=(lambda count: progress("rendered", count)) if progress else None,
        )
    try:
        with translation.override("fr"):
            for start in range(0, len(person_ids), chunk_size):
                chunk = person_ids[start : start + chunk_size]
                issue_chunk(chunk, issued, actor=actor, now=now)
                if renderer:
                    renderer.send(issued.pages)
                    issued.pages.clear()
                if progress:
                    progress("issued", len(chunk))
        if not issued.letter_ids:
            if renderer:
                renderer.abort()
            return None
        written = timer.lap()
        if renderer:
            pdf_name = save_batch_pdf(renderer.finish(), now=now)
            renderer.discard()
        else:
            pdf_name = write_batch_pdf(issued.pages, now=now, progress=progress)
        issued.pages.clear()  # the codes are in the PDF only, from now on
        rendered = timer.lap()
        batch = attach_to_batch(issued, pdf_name=pdf_name, actor=actor, now=now)
        logger.info(
            "Letter batch %s: %d letters written in %.1f s, rendered in %.1f s, "
            "attached in %.1f s.",
            batch.pk,
            batch.letter_count,
            written,
            rendered,
            timer.lap(),
        )
        return batch
    except BaseException as exc:
        if renderer:
            renderer.abort()
        abandon(issued, pdf_name, exc)
        raise


class Timer:
    def __init__(self) -> None:
        self.last = time.perf_counter()

    def lap(self) -> float:
        """Seconds since the previous lap (or the start)."""
        now = time.perf_counter()
        elapsed, self.last = now - self.last, now
        return elapsed


def issue_chunk(
    person_ids: Sequence[int], issued: IssuedLetters, *, actor: str, now: datetime.datetime
) -> None:
    for draw in range(CODE_DRAWS):
        try:
            with transaction.atomic():
                chunk = write_letters(person_ids, actor=actor, now=now)
        except IntegrityError:
            # Most likely a code that hashes like a stored one: draw the chunk again.
            if draw == CODE_DRAWS - 1:
                raise
            logger.warning("Letter chunk refused by the database; drawing new codes.")
        else:
            issued.extend(chunk)
            return


def write_letters(
    person_ids: Sequence[int], *, actor: str, now: datetime.datetime
) -> IssuedLetters:
    """One transaction's worth: void the older letters, create the new ones, their
    audit events and outbox messages. Returns the ids, the pages to print and the open
    requests answered (left open: `attach_to_batch` closes them)."""
    found = InsuredPerson.objects.filter(pk__in=person_ids, date_of_death__isnull=True)
    by_id = {person.pk: person for person in found}
    persons = [by_id[pk] for pk in person_ids if pk in by_id]
    if not persons:
        return IssuedLetters()
    void_unused_letters(persons, actor=actor, now=now)
    request_ids = list(
        LetterRequest.objects.filter(person__in=persons, fulfilled_at__isnull=True).values_list(
            "pk", flat=True
        )
    )

    expires_at = code_expiry(now)
    codes = [new_code() for _person in persons]
    letters = ActivationLetter.objects.bulk_create(
        ActivationLetter(
            person=person, code_hash=hash_code(code), issued_at=now, expires_at=expires_at
        )
        for person, code in zip(persons, codes, strict=True)
    )
    record_events(
        AuditEvent(
            at=now,
            event_type=EventType.LETTER_ISSUED,
            actor=actor,
            person=letter.person,
            details={"letter_id": letter.pk, "expires_at": expires_at.isoformat()},
        )
        for letter in letters
    )

    # Every living person has a DSP, opened with their first letter: the receiver
    # (esante.records) creates the missing ones now, so that the facts read below, hence
    # the pages, give each person's DSP as it stands.
    signals.letters_written.send(
        sender=ActivationLetter, person_ids=[person.pk for person in persons], at=now
    )

    last_day = last_valid_day(expires_at)
    facts = letter_facts(found, now=now)
    pages = [
        letter_page(letter, code, expires_on=last_day, facts=facts[letter.person_id])
        for letter, code in zip(letters, codes, strict=True)
    ]
    outbox = LetterMessages(valid_until=last_day, now=now)
    messages = OutboundMessage.objects.bulk_create(
        (outbox.message(letter, page) for letter, page in zip(letters, pages, strict=True)),
        batch_size=1000,
    )
    return IssuedLetters(
        letter_ids=[letter.pk for letter in letters],
        message_ids=[message.pk for message in messages],
        pages=pages,
        request_ids=request_ids,
    )


def void_unused_letters(
    persons: Sequence[InsuredPerson],
    *,
    actor: str,
    now: datetime.datetime,
    reason: str = "reissued",
) -> None:
    unused = ActivationLetter.objects.filter(
        person__in=persons, used_at__isnull=True, voided_at__isnull=True
    )
    # Locked first, so that a code being consumed right now is either used or voided.
    to_void = list(unused.select_for_update().values_list("pk", "person_id"))
    if not to_void:
        return
    ActivationLetter.objects.filter(pk__in=[pk for pk, _person in to_void]).update(voided_at=now)
    record_events(
        AuditEvent(
            at=now,
            event_type=EventType.LETTER_VOIDED,
            actor=actor,
            person_id=person_id,
            details={"letter_id": pk, "reason": reason},
        )
        for pk, person_id in to_void
    )


@dataclass(frozen=True)
class LetterFacts:
    """What a person's letter says besides their name and address."""

    language: str = "fr"
    # Their DSP (opt-out): whether it is open, and when the holder may still object to it
    # (close it) before professionals may write into it, the day writing starts.
    dsp_open: bool = False
    dsp_writable_from: datetime.date | None = None


def letter_facts(
    persons: QuerySet[InsuredPerson], *, now: datetime.datetime
) -> dict[int, LetterFacts]:
    """Each person's letter facts (by id), in one query: the language of the letter
    (their account's, or without an account the one the registry feed gave, French
    unless it said otherwise) and the state of their DSP. The apps above the registry are
    reached through their relations' names (`account`, `care_record`), never imported:
    see persons_needing_letters."""
    fields: dict[str, Any] = {"letter_language": F("language")}
    if apps.is_installed("esante.accounts"):
        fields["letter_language"] = Coalesce("account__language", "language")
    with_records = apps.is_installed("esante.records")
    if with_records:
        fields["dsp_id"] = F("care_record__pk")
        fields["dsp_closed_at"] = F("care_record__closed_at")
        fields["dsp_objection_until"] = F("care_record__objection_until")
    facts = {}
    for row in persons.annotate(**fields).values("pk", *fields):
        until = row.get("dsp_objection_until")
        facts[row["pk"]] = LetterFacts(
            language=row["letter_language"],
            dsp_open=with_records and row["dsp_id"] is not None and row["dsp_closed_at"] is None,
            dsp_writable_from=timezone.localdate(until) if until and until > now else None,
        )
    return facts


def letter_page(
    letter: ActivationLetter,
    code: str,
    *,
    expires_on: datetime.date,
    facts: LetterFacts | None = None,
) -> LetterPage:
    facts = facts or LetterFacts()
    language = facts.language
    person = letter.person
    minor = person.is_minor
    if minor:
        with translation.override(language):
            addressee = _("Aux parents de %(name)s") % {"name": person.full_name}
    else:
        addressee = person.full_name
    return LetterPage(
        reference=f"L-{letter.pk:06d}",
        address_lines=(addressee, *person.postal_lines),
        holder_name=person.full_name,
        matricule=person.matricule,
        code=format_code(code),
        expires_on=expires_on,
        for_minor=minor,
        language=language,
        dsp_open=facts.dsp_open,
        dsp_writable_from=facts.dsp_writable_from,
    )


class LetterMessages:
    """The outbox messages of letters expiring the same day: the letter as the outbox
    shows it, its code in clear only in demo mode. (In demo mode `redacted_body` holds
    the masked text, as for e-mail and SMS; otherwise the body is masked from the start
    and there is nothing to redact.)"""

    def __init__(self, *, valid_until: datetime.date, now: datetime.datetime) -> None:
        self.valid_until = valid_until
        self.now = now
        self.demo = settings.ESANTE_DEMO
        # Per language: the subject, the text and the expiry date, worded once.
        self.wording: dict[str, tuple[str, str, str]] = {}
        # The DSP paragraph, by language, minor or not and date, worded once.
        self.dsp_texts: dict[tuple[str, bool, datetime.date | None], str] = {}

    def _wording(self, language: str) -> tuple[str, str, str]:
        if language not in self.wording:
            with translation.override(language):
                self.wording[language] = (
                    _("Courrier d'activation eSanté"),
                    _(
                        "%(addressee)s\n\n"
                        "Titulaire du compte : %(name)s\n"
                        "Matricule : %(matricule)s\n"
                        "Code d'activation : %(code)s\n"
                        "Valable jusqu'au %(date)s inclus.\n\n"
                        "Activez le compte sur www.esante.lu : « PATIENTS », puis « ACTIVATION "
                        "COMPTE ESANTE ».\n"
                        "Réf. : %(reference)s"
                    ),
                    long_date(self.valid_until),
                )
        return self.wording[language]

    def _dsp_text(self, page: LetterPage) -> str:
        """The letter's paragraph on the DSP, after a blank line; empty without one."""
        if not page.dsp_open:
            return ""
        key = (page.language, page.for_minor, page.dsp_writable_from)
        if key not in self.dsp_texts:
            with translation.override(page.language):
                self.dsp_texts[key] = "\n\n" + dsp_paragraph(
                    for_minor=page.for_minor, writable_from=page.dsp_writable_from
                )
        return self.dsp_texts[key]

    def message(self, letter: ActivationLetter, page: LetterPage) -> OutboundMessage:
        subject, text, valid_until = self._wording(page.language)
        text += self._dsp_text(page).replace("%", "%%")
        values = {
            "addressee": "\n".join(page.address_lines),
            "name": page.holder_name,
            "matricule": page.matricule,
            "date": valid_until,
            "reference": page.reference,
        }
        masked = text % {**values, "code": REDACTED}
        return OutboundMessage(
            channel=Channel.LETTER,
            person_id=letter.person_id,
            recipient=", ".join(page.address_lines)[:500],
            subject=subject,
            body=text % {**values, "code": page.code} if self.demo else masked,
            redacted_body=masked if self.demo else "",
            created_at=self.now,
        )


def write_batch_pdf(
    pages: Sequence[LetterPage], *, now: datetime.datetime, progress: Progress | None
) -> str:
    """Render the pages into the private letters storage; returns the file's name."""

    def counted(pages: Sequence[LetterPage]) -> Iterable[LetterPage]:
        for index, page in enumerate(pages, start=1):
            yield page
            if progress and index % 1000 == 0:
                progress("rendered", 1000)
        if progress and len(pages) % 1000:
            progress("rendered", len(pages) % 1000)

    local = timezone.localtime(now)
    # An unnamed temporary file: the codes are in clear until the storage has them.
    with tempfile.TemporaryFile() as output:
        render_letters(counted(pages), output, issued_on=local.date())
        output.seek(0)
        return _store_pdf(output, now=now)


def save_batch_pdf(path: str, *, now: datetime.datetime) -> str:
    """Move a PDF drawn by the pipelined renderer into the letters storage."""
    with open(path, "rb") as output:
        return _store_pdf(output, now=now)


def _store_pdf(output: IO[bytes], *, now: datetime.datetime) -> str:
    local = timezone.localtime(now)
    name = f"activation-letters-{local:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}.pdf"
    return storages["letters"].save(name, File(output, name=name))


@transaction.atomic
def attach_to_batch(
    issued: IssuedLetters, *, pdf_name: str, actor: str, now: datetime.datetime
) -> LetterBatch:
    """Make the run's letters part of the post and close the requests they answer: the
    last step, in one transaction."""
    count = len(issued.letter_ids)
    batch = LetterBatch.objects.create(created_at=now, letter_count=count, pdf_name=pdf_name)
    for start in range(0, count, CHUNK_SIZE):
        ids = issued.letter_ids[start : start + CHUNK_SIZE]
        ActivationLetter.objects.filter(pk__in=ids).update(batch=batch)
    sent_at = timezone.now()
    # Not when the helpdesk voided the person's new letter during the run: its re-issue
    # then kept the same open request, which the next run must serve. (The letters'
    # rows are locked above, so a re-issue racing this transaction either voided the
    # letter before this reads it, or waits and then finds the request closed.)
    letter_still_good = ActivationLetter.objects.filter(
        batch=batch, person=OuterRef("person_id"), voided_at__isnull=True
    )
    for start in range(0, len(issued.request_ids), CHUNK_SIZE):
        ids = issued.request_ids[start : start + CHUNK_SIZE]
        LetterRequest.objects.filter(pk__in=ids, fulfilled_at__isnull=True).filter(
            Exists(letter_still_good)
        ).update(fulfilled_at=sent_at)
    for start in range(0, len(issued.message_ids), CHUNK_SIZE):
        ids = issued.message_ids[start : start + CHUNK_SIZE]
        OutboundMessage.objects.filter(pk__in=ids).update(
            letter_batch=batch, state=DeliveryState.SENT, sent_at=sent_at
        )
    record_event(
        EventType.LETTER_BATCH_RENDERED,
        actor=actor,
        batch_id=batch.pk,
        letter_count=count,
        pdf_name=pdf_name,
    )
    # A letter for an activated account would re-activate it: its holder is told.
    signals.letters_issued.send(sender=LetterBatch, batch=batch, actor=actor)
    return batch


def abandon(issued: IssuedLetters, pdf_name: str, error: BaseException) -> None:
    """After a failed run: no PDF left to post, and the run's messages marked failed.
    Its letters stay without a batch, hence unusable, and its requests open (only
    `attach_to_batch` closes them): the next run re-issues them."""
    logger.error(
        "Letter run failed; letters issued before: %d; error: %r", len(issued.letter_ids), error
    )
    if pdf_name:
        storages["letters"].delete(pdf_name)
    reason = f"Lot non imprimé : {error!r}"[:500]
    try:
        for start in range(0, len(issued.message_ids), CHUNK_SIZE):
            ids = issued.message_ids[start : start + CHUNK_SIZE]
            OutboundMessage.objects.filter(pk__in=ids, state=DeliveryState.PENDING).update(
                state=DeliveryState.FAILED, last_error=reason
            )
    except Exception:  # the database may be why the run failed
        logger.exception("Could not mark the failed run's letter messages.")


# Requests for a new letter (activation step 1, "Non").

REQUEST_INTERVAL = datetime.timedelta(days=30)


@transaction.atomic
def request_new_letter(matricule: str, *, ip_address: str | None) -> LetterRequest | None:
    """Record that the holder of `matricule` asks for a new letter by post.

    The page says nothing back: it reads the same whether the matricule is unknown,
    belongs to a deceased person or to an account already activated, or was asked for
    already. A real request is kept for the helpdesk and the next letter run, at most
    one per person per 30 days, and returned (None when nothing was recorded). The
    holder of an activated account is told of it (the signal `letter_requested`:
    esante.accounts.actions.announce_letter_request).
    """
    now = timezone.now()
    person = (
        InsuredPerson.objects.select_for_update()
        .filter(matricule=matricule_rules.normalize(matricule), date_of_death__isnull=True)
        .first()
    )
    if person is None:
        return None
    recent = LetterRequest.objects.filter(
        person=person, requested_at__gt=now - REQUEST_INTERVAL
    ).exists()
    if recent:
        return None
    request = LetterRequest.objects.create(person=person, requested_at=now)
    record_event(
        EventType.LETTER_REQUESTED, actor="anonymous", person=person, ip_address=ip_address
    )
    signals.letter_requested.send(
        sender=LetterRequest, request=request, actor="anonymous", ip_address=ip_address
    )
    return request
