"""*Mot de passe oublié* without an account plays out a code that was never sent: the
same refusals, try after try, the same expiry, *Renvoyer le code* after the same 60 s and
under the same limit, and wrong codes counted per matricule. Each scenario runs for a
matricule with an account and for two without (known to the registry, and unknown)."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts.login import recovery_views
from esante.registry import matricule
from esante.registry.models import InsuredPerson
from tests.accounts.test_authenticator_app import activate_with_app
from tests.accounts.test_login import EMAIL
from tests.accounts.wizard import activate, alert_text
from tests.factories import forget_rate_limits

pytestmark = pytest.mark.django_db

CODE_PAGE = reverse("patient:recovery_code")
NOBODY = matricule.make(datetime.date(1970, 5, 5), 7)
SOMEONE_ELSE = matricule.make(datetime.date(1971, 6, 6), 8)
WRONG = "000000"
TRIES_LEFT_4 = "Il vous reste 4 essais"
EXHAUSTED = "Trop d'essais erronés"
FLOOR = recovery_views.ANSWER_SECONDS


@pytest.fixture(autouse=True)
def answers_unfloored(monkeypatch: pytest.MonkeyPatch) -> None:
    """The answers' floor is tested below and in test_enumeration; here it would only
    cost time (a scenario types up to 21 codes)."""
    monkeypatch.setattr(recovery_views, "ANSWER_SECONDS", 0.0)


@pytest.fixture
def base_time() -> datetime.datetime:
    """A moment just past the start of an hour: the rate limits count per hour, and a
    scenario must not straddle two of their windows."""
    next_hour = timezone.now() + datetime.timedelta(hours=1)
    return next_hour.replace(minute=0, second=5, microsecond=0)


@pytest.fixture(params=["with account", "known without account", "unknown"])
def number(request: pytest.FixtureRequest, alice: InsuredPerson, charlie: InsuredPerson) -> str:
    if request.param == "with account":
        activate(Client(), alice, EMAIL)
        forget_rate_limits()  # the activation's own counters are not the scenario's
        return alice.matricule
    return charlie.matricule if request.param == "known without account" else NOBODY


@contextmanager
def after(base: datetime.datetime, seconds: float) -> Iterator[None]:
    with time_machine.travel(base + datetime.timedelta(seconds=seconds), tick=False):
        yield


def ask(client: Client, number: str) -> int:
    response = client.post(
        reverse("patient:recovery"),
        {"matricule": number, "captcha_0": "x", "captcha_1": "PASSED"},
    )
    return response.status_code


def type_code(client: Client, code: str = WRONG) -> str:
    """The code's refusal, or the status when there is none (429)."""
    response = client.post(CODE_PAGE, {"code": code})
    if response.status_code != 400:
        return str(response.status_code)
    return alert_text(response)


def resend(client: Client) -> int:
    response = client.post(CODE_PAGE, {"resend": "1"})
    if response.status_code == 302:
        assert response["Location"] == CODE_PAGE
    return response.status_code


def test_a_recovery_code_is_a_wrong_code_whatever_the_account(
    alice: InsuredPerson, bob: InsuredPerson, charlie: InsuredPerson
) -> None:
    """The page takes a recovery code (10 characters) as well as 6 digits: for an account
    using SMS or e-mail, one typed is a wrong code, as for an account using the app and
    without an account — not a badly formed one."""
    activate(Client(), alice, EMAIL)
    activate_with_app(Client(), bob)
    answers = set()
    for number in (alice.matricule, bob.matricule, charlie.matricule, NOBODY):
        client = Client()
        ask(client, number)
        answers.add(type_code(client, "ABCDE-FGHJK"))

    assert len(answers) == 1, answers
    assert TRIES_LEFT_4 in answers.pop()


def test_wrong_codes_for_other_matricules_do_not_count_against_this_one(number: str) -> None:
    elsewhere = Client(REMOTE_ADDR="192.0.2.7")
    ask(elsewhere, SOMEONE_ELSE)
    for _try in range(20):  # the limit per matricule (otp.failed), used up elsewhere
        type_code(elsewhere)
    assert type_code(elsewhere) == "429"

    client = Client()
    ask(client, number)

    assert TRIES_LEFT_4 in type_code(client)


def test_wrong_codes_are_limited_per_matricule(number: str) -> None:
    client = Client()
    ask(client, number)

    answers = [type_code(client) for _try in range(21)]

    assert EXHAUSTED in answers[4] and EXHAUSTED in answers[19]
    assert answers[20] == "429"


def test_a_resend_after_60_seconds_starts_the_tries_again(
    number: str, base_time: datetime.datetime
) -> None:
    client = Client()
    with after(base_time, 0):
        ask(client, number)
        assert EXHAUSTED in [type_code(client) for _try in range(5)][-1]
    with after(base_time, 30):
        assert resend(client) == 302  # too soon: nothing changes
        assert EXHAUSTED in type_code(client)
    with after(base_time, 61):
        assert resend(client) == 302

        assert TRIES_LEFT_4 in type_code(client)


def test_resends_are_limited_to_five_sends_an_hour(
    number: str, base_time: datetime.datetime
) -> None:
    """The code sent on asking counts, then one resend a minute: the fifth resend is the
    sixth send. Asking again then is refused too, and leaves no code page."""
    client = Client()
    with after(base_time, 0):
        assert ask(client, number) == 302
    statuses = []
    for minute in range(1, 6):
        with after(base_time, 61 * minute):
            statuses.append(resend(client))

    assert statuses == [302, 302, 302, 302, 429]
    with after(base_time, 61 * 6):
        again = Client()
        assert ask(again, number) == 429
        assert again.get(CODE_PAGE)["Location"] == reverse("patient:recovery")


def test_the_code_expires_after_15_minutes(number: str, base_time: datetime.datetime) -> None:
    client = Client()
    with after(base_time, 0):
        ask(client, number)
    with after(base_time, 10 * 60):
        client.get(CODE_PAGE)  # reading the page keeps the flow alive, not the code
    with after(base_time, 16 * 60):
        assert "Ce code a expiré" in type_code(client)


def test_wrong_codes_do_not_keep_the_flow_alive(number: str, base_time: datetime.datetime) -> None:
    client = Client()
    with after(base_time, 0):
        ask(client, number)
    with after(base_time, 10 * 60):
        assert TRIES_LEFT_4 in type_code(client)
    with after(base_time, 16 * 60):
        idle = client.post(CODE_PAGE, {"code": WRONG})

    assert idle["Location"] == CODE_PAGE  # idled out: the procedure starts again,
    assert client.get(CODE_PAGE)["Location"] == reverse("patient:recovery")  # at the start


def test_a_resend_takes_as_long_as_asking(number: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recovery_views, "ANSWER_SECONDS", FLOOR)
    client = Client()
    ask(client, number)

    started = time.perf_counter()
    resend(client)

    assert time.perf_counter() - started >= FLOOR


def test_a_wrong_code_takes_as_long_as_asking(number: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong code costs an account a row update and an audit event: 7 ms against 15 ms
    on a laptop, as telling as a different message."""
    monkeypatch.setattr(recovery_views, "ANSWER_SECONDS", FLOOR)
    client = Client()
    ask(client, number)

    started = time.perf_counter()
    type_code(client)

    assert time.perf_counter() - started >= FLOOR
