"""No public form tells whether a matricule exists, or has an account.

Every public form that takes a matricule is submitted, round after round, for an unknown
matricule (valid, but in no registry), a known one without an account (a letter waits
for it) and a known one with an account. The three answers must be indistinguishable:
the same status, the same redirect, the same page (once the typed matricule, the CSRF
token and the captcha key are set aside), and the same time within 20%: the lower
quartiles of interleaved rounds, what each answer costs when the shared machine lets it
run (an attacker repeats and keeps the fast ones, too). The state that a round leaves —
counters, locks — is reset before the next, so that every round is a first try.
"""

from __future__ import annotations

import datetime
import gc
import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from esante import ratelimit
from esante.accounts.login import recovery_views
from esante.accounts.models import Account, CodeLock
from esante.notifications import actions
from esante.professionals.models import Professional
from esante.records import care
from esante.records.actions import close_record, ensure_care_record
from esante.records.models import Capacity
from esante.registry import matricule
from esante.registry.models import ActivationLetter, InsuredPerson, LetterRequest
from tests.accounts.wizard import PASSWORD, activate, issue_letter
from tests.factories import forget_rate_limits, make_person, years_ago
from tests.practice.conftest import PAUL, professional_client, register

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

ROUNDS = 15
WARM_UP = 2
TOLERANCE = 1.20
MEASUREMENTS = 2  # a timing difference must show twice (assert_indistinguishable)
CAPTCHA = {"captcha_0": "x", "captcha_1": "PASSED"}
# Well formed (only letters codes use), so that the lookup and the refusal both run.
WRONG_LETTER_CODE = "AAAA-CCCC-DDDD"

NOISE = [
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"'), 'name="csrfmiddlewaretoken"'),
    (re.compile(r"\b[0-9a-f]{40}\b"), "CAPTCHA-KEY"),
    (re.compile(r'nonce="[^"]*"'), 'nonce=""'),
    # The typed matricule, shown back in the form: as typed, or grouped for reading.
    (re.compile(r"\d(?:[ \u00a0\u202f]?\d){12}"), "MATRICULE"),
]


@dataclass(frozen=True)
class Answer:
    status: int
    location: str
    page: str


def answer_of(response: Response) -> Answer:
    page = response.content.decode()
    for pattern, replacement in NOISE:
        page = pattern.sub(replacement, page)
    return Answer(response.status_code, response.get("Location", ""), page)


@pytest.fixture
def matricules(alice: InsuredPerson, bob: InsuredPerson) -> dict[str, str]:
    """unknown / known without an account / known with one."""
    activate(Client(), alice, "alice@example.lu")
    issue_letter(bob)
    unknown = matricule.make(years_ago(40, days=17), 977)
    assert not InsuredPerson.objects.filter(matricule=unknown).exists()
    return {"unknown": unknown, "without account": bob.matricule, "with account": alice.matricule}


after_response: list[float] = []  # seconds spent after the responses of one submission


def timed(deliver: Callable[[list[int]], None]) -> Callable[[list[int]], None]:
    def timed_deliver(message_ids: list[int]) -> None:
        started = time.perf_counter()
        deliver(message_ids)
        after_response.append(time.perf_counter() - started)

    return timed_deliver


def reset_state() -> None:
    """What a round leaves behind, undone: each round is a first try."""
    forget_rate_limits()  # rate-limit counters, captcha-after-failures
    Account.objects.update(failed_logins=0, locked_until=None)
    CodeLock.objects.all().delete()  # consecutive wrong codes per flow
    ActivationLetter.objects.update(failed_attempts=0, locked_at=None)
    LetterRequest.objects.all().delete()


@contextmanager
def answers_unfloored() -> Iterator[None]:
    """For the requests of a round that are not compared: the floor of the recovery's
    answers (ANSWER_SECONDS) would only cost the test time."""
    floor = recovery_views.ANSWER_SECONDS
    recovery_views.ANSWER_SECONDS = 0.0
    try:
        yield
    finally:
        recovery_views.ANSWER_SECONDS = floor


def assert_indistinguishable(
    matricules: dict[str, str],
    submit: Callable[[Client, str], Response],
    prepare: Callable[[], object] = lambda: None,
    rounds: int = ROUNDS,
    lead_in: Callable[[Client, str], object] = lambda client, number: None,
) -> None:
    """`lead_in`: the requests of a round that come before the one compared, untimed.
    Timings that differ are measured once more before the test fails: a real difference
    (a query one branch skips) shows both times, a burst of the machine's noise during
    the whole suite seldom twice."""
    for _attempt in range(MEASUREMENTS):
        quartiles = _measure(matricules, submit, prepare, rounds, lead_in)
        slowest, fastest = max(quartiles.values()), min(quartiles.values())
        if slowest <= fastest * TOLERANCE:
            return
    raise AssertionError(f"timings differ by more than 20%, {MEASUREMENTS} times: {quartiles}")


def _measure(
    matricules: dict[str, str],
    submit: Callable[[Client, str], Response],
    prepare: Callable[[], object],
    rounds: int,
    lead_in: Callable[[Client, str], object],
) -> dict[str, float]:
    """The answers checked alike; each label's first quartile of the answer's time."""
    answers: dict[str, set[Answer]] = {label: set() for label in matricules}
    timings: dict[str, list[float]] = {label: [] for label in matricules}
    labels = list(matricules)
    for round_number in range(WARM_UP + rounds):
        # Interleaved, in a rotating order: the machine's noise falls on all three.
        turn = round_number % len(labels)
        for label in labels[turn:] + labels[:turn]:
            reset_state()
            with answers_unfloored():
                prepare()
            client = Client()
            with answers_unfloored():
                lead_in(client, matricules[label])
            gc.collect()
            started = time.perf_counter()
            after_response.clear()
            response = submit(client, matricules[label])
            elapsed = time.perf_counter() - started - sum(after_response)
            answers[label].add(answer_of(response))
            if round_number >= WARM_UP:
                timings[label].append(elapsed)

    reference = answers["unknown"]
    assert len(reference) == 1, "the answer to an unknown matricule varies by itself"
    for label in labels:
        assert answers[label] == reference, f"{label!r} answers differently"
    return {label: statistics.quantiles(each, n=4)[0] for label, each in timings.items()}


def test_activation_step_1_with_a_wrong_code(matricules: dict[str, str]) -> None:
    def submit(client: Client, number: str) -> Response:
        client.post(reverse("activation:start"), {"accept_cgu": "on"})
        return client.post(
            reverse("activation:code"),
            {"matricule": number, "code": WRONG_LETTER_CODE, **CAPTCHA},
        )

    assert_indistinguishable(matricules, submit)


def test_activation_step_1_asking_for_a_new_letter(matricules: dict[str, str]) -> None:
    def submit(client: Client, number: str) -> Response:
        client.post(reverse("activation:start"), {"accept_cgu": "on"})
        return client.post(
            reverse("activation:new_letter"),
            {
                "courrier-matricule": number,
                "courrier-captcha_0": "x",
                "courrier-captcha_1": "PASSED",
            },
        )

    assert_indistinguishable(matricules, submit)


def test_login_with_a_wrong_password(matricules: dict[str, str]) -> None:
    def submit(client: Client, number: str) -> Response:
        return client.post(
            reverse("patient:login"), {"matricule": number, "password": PASSWORD + "?"}
        )

    assert_indistinguishable(matricules, submit)


def test_login_with_the_right_password_of_a_locked_account(
    matricules: dict[str, str],
) -> None:
    """A locked account's answer is the unknown matricule's, even to its own password."""
    locked = {label: matricules[label] for label in ("unknown", "with account")}

    def lock() -> None:
        Account.objects.update(locked_until=timezone.now() + datetime.timedelta(hours=1))

    def submit(client: Client, number: str) -> Response:
        return client.post(reverse("patient:login"), {"matricule": number, "password": PASSWORD})

    assert_indistinguishable(locked, submit, prepare=lock)


def test_forgotten_password_and_its_code_page(
    matricules: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The code goes out after the response (DeliverAfterResponseMiddleware), which the
    test client waits for: that time is not the answer's, and is taken off."""
    monkeypatch.setattr(actions, "deliver_all", timed(actions.deliver_all))

    def submit(client: Client, number: str) -> Response:
        asked = client.post(reverse("patient:recovery"), {"matricule": number, **CAPTCHA})
        assert asked.status_code == 302, asked.content.decode()
        return client.get(asked["Location"])

    # The answer is held to a floor (ANSWER_SECONDS): fewer rounds suffice, and cost less.
    assert_indistinguishable(matricules, submit, rounds=9)

    def wrong_code(client: Client, number: str) -> Response:
        client.post(reverse("patient:recovery"), {"matricule": number, **CAPTCHA})
        return client.post(reverse("patient:recovery_code"), {"code": "000000"})

    assert_indistinguishable(matricules, wrong_code, rounds=9)


# The code page, from the second request of a recovery on: what it answers (and how fast)
# must not depend on the account either. The code is sent after the response, which the
# test client waits for: that time is taken off (`timed`).

RECOVERY_CODE_SHAPED = "ABCDE-FGHJK"  # an authenticator app's recovery code


def ask_for_a_code(client: Client, number: str) -> None:
    asked = client.post(reverse("patient:recovery"), {"matricule": number, **CAPTCHA})
    assert asked.status_code == 302, asked.content.decode()


def type_code(client: Client, code: str = "000000") -> Response:
    return client.post(reverse("patient:recovery_code"), {"code": code})


def resend(client: Client) -> Response:
    return client.post(reverse("patient:recovery_code"), {"resend": "1"})


@pytest.fixture
def deliveries_untimed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actions, "deliver_all", timed(actions.deliver_all))


@pytest.fixture
def hour_start() -> datetime.datetime:
    """Early in an hour: a round's requests, a minute apart, stay in one window of the
    hourly rate limits."""
    next_hour = timezone.now() + datetime.timedelta(hours=1)
    return next_hour.replace(minute=0, second=5, microsecond=0)


def minutes_after(start: datetime.datetime, minutes: int) -> time_machine.travel:
    return time_machine.travel(start + datetime.timedelta(seconds=61 * minutes), tick=False)


@pytest.mark.usefixtures("deliveries_untimed")
def test_forgotten_password_a_recovery_code_typed(matricules: dict[str, str]) -> None:
    """Well formed on this page, which takes both: never « compte 6 chiffres »."""

    def submit(client: Client, number: str) -> Response:
        return type_code(client, RECOVERY_CODE_SHAPED)

    assert_indistinguishable(matricules, submit, lead_in=ask_for_a_code, rounds=9)


@pytest.mark.usefixtures("deliveries_untimed")
def test_forgotten_password_wrong_codes_for_another_matricule(
    matricules: dict[str, str],
) -> None:
    """Another matricule without an account has used up its wrong codes (otp.failed):
    that says nothing of this one's, with an account or not."""
    another = matricule.make(years_ago(50, days=3), 311)

    def use_up_the_limit_elsewhere() -> None:
        elsewhere = Client(REMOTE_ADDR="192.0.2.7")
        ask_for_a_code(elsewhere, another)
        for _try in range(20):
            type_code(elsewhere)
        assert type_code(elsewhere).status_code == 429

    def submit(client: Client, number: str) -> Response:
        return type_code(client)

    assert_indistinguishable(
        matricules, submit, prepare=use_up_the_limit_elsewhere, lead_in=ask_for_a_code, rounds=5
    )


@pytest.mark.usefixtures("deliveries_untimed")
def test_forgotten_password_resend(
    matricules: dict[str, str], hour_start: datetime.datetime
) -> None:
    """*Renvoyer le code* a minute later: a code sent, or not, in the same time."""

    def lead_in(client: Client, number: str) -> None:
        with minutes_after(hour_start, 0):
            ask_for_a_code(client, number)

    def submit(client: Client, number: str) -> Response:
        with minutes_after(hour_start, 1):
            return resend(client)

    assert_indistinguishable(matricules, submit, lead_in=lead_in, rounds=9)


@pytest.mark.usefixtures("deliveries_untimed")
def test_forgotten_password_resend_past_the_limit(
    matricules: dict[str, str], hour_start: datetime.datetime
) -> None:
    """The code sent on asking and four resends are five sends: the fifth resend is
    refused (otp.send, per person and destination), with an account or not: the same page,
    which says the limit, its end and what to do."""

    def lead_in(client: Client, number: str) -> None:
        with minutes_after(hour_start, 0):
            ask_for_a_code(client, number)
        for minute in range(1, 5):
            with minutes_after(hour_start, minute):
                assert resend(client).status_code == 302

    def submit(client: Client, number: str) -> Response:
        with minutes_after(hour_start, 5):
            return resend(client)

    assert_indistinguishable(matricules, submit, lead_in=lead_in, rounds=5)


@pytest.mark.usefixtures("deliveries_untimed")
def test_forgotten_password_a_wrong_code_after_a_resend(
    matricules: dict[str, str], hour_start: datetime.datetime
) -> None:
    """Five wrong codes, *Renvoyer le code* a minute later, and a wrong code again: four
    tries left, with an account or not."""

    def lead_in(client: Client, number: str) -> None:
        with minutes_after(hour_start, 0):
            ask_for_a_code(client, number)
            for _try in range(5):
                type_code(client)
        with minutes_after(hour_start, 1):
            resend(client)

    def submit(client: Client, number: str) -> Response:
        with minutes_after(hour_start, 1):
            return type_code(client)

    assert_indistinguishable(matricules, submit, lead_in=lead_in, rounds=5)


# Past a limit counted per matricule, the "try later" page (which limit, until when, what
# to do) is the same whether the matricule exists or not, and as fast.


def at_the_limit(action: str) -> Callable[[Client, str], None]:
    """The typed matricule's count of `action` at its limit, from another address."""

    def lead_in(client: Client, number: str) -> None:
        request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.9")
        rule = next(rule for rule in ratelimit.RATE_LIMITS[action] if rule.scope == "key")
        for _hit in range(rule.limit):
            ratelimit.hit(action, request, key=number)

    return lead_in


def refused(response: Response) -> Response:
    assert response.status_code == 429, response.content.decode()
    return response


def activation_code(client: Client, number: str) -> Response:
    """A wrong code that could be one (of the letters' alphabet), so that it counts."""
    client.post(reverse("activation:start"), {"accept_cgu": "on"})
    return client.post(
        reverse("activation:code"), {"matricule": number, "code": "ACDE-FHJK-MNPQ", **CAPTCHA}
    )


def new_letter(client: Client, number: str) -> Response:
    client.post(reverse("activation:start"), {"accept_cgu": "on"})
    return client.post(
        reverse("activation:new_letter"),
        {"courrier-matricule": number, "courrier-captcha_0": "x", "courrier-captcha_1": "PASSED"},
    )


def login(client: Client, number: str) -> Response:
    # From the 3rd failure the matricule asks for a captcha first.
    data = {"matricule": number, "password": PASSWORD + "?", **CAPTCHA}
    return client.post(reverse("patient:login"), data)


def forgotten_password(client: Client, number: str) -> Response:
    return client.post(reverse("patient:recovery"), {"matricule": number, **CAPTCHA})


@pytest.mark.parametrize(
    ("action", "submit"),
    [
        ("activation.code_failed", activation_code),
        ("activation.new_letter", new_letter),
        ("login.failed", login),
        ("recovery.request", forgotten_password),
    ],
)
def test_the_page_past_a_matricules_limit(
    matricules: dict[str, str], action: str, submit: Callable[[Client, str], Response]
) -> None:
    assert_indistinguishable(
        matricules,
        lambda client, number: refused(submit(client, number)),
        lead_in=at_the_limit(action),
    )


# A professional's declaration of a care relationship (issue 17): whatever stops it — the
# matricule is no one's, the name is another's, the holder blocked them, the DSP is
# closed — the same page, as fast. Every name typed is « Martin ».


@pytest.fixture
def paul(db: None) -> Professional:
    return register(PAUL)


@pytest.fixture
def declarations(paul: Professional, alice: InsuredPerson, bob: InsuredPerson) -> dict[str, str]:
    alice_record = ensure_care_record(alice)
    care.block_professional(
        alice_record, paul, actor=alice, capacity=Capacity.OWNER, ip_address=None
    )
    close_record(ensure_care_record(bob), actor=bob)
    weber = make_person("Chantal", "Weber", years_ago(52))
    ensure_care_record(weber)
    unknown = matricule.make(years_ago(40, days=17), 977)
    assert not InsuredPerson.objects.filter(matricule=unknown).exists()
    return {
        "unknown": unknown,
        "name mismatch": weber.matricule,
        "blocked": alice.matricule,
        "closed DSP": bob.matricule,
    }


def test_a_professionals_declaration_refused_for_any_reason(
    paul: Professional, declarations: dict[str, str]
) -> None:
    def as_paul(client: Client, number: str) -> None:
        # A session of its own each round: reset_state() empties the cache, which holds
        # the sessions when Redis does.
        client.cookies.update(professional_client(paul).cookies)

    def submit(client: Client, number: str) -> Response:
        data = {"matricule": number, "last_name": "Martin", "reason": "Consultation"}
        response = client.post(reverse("practice:declare"), data)
        assert response.status_code == 400, response.status_code
        return response

    assert_indistinguishable(declarations, submit, lead_in=as_paul)
