"""The rate limits: one table, per IP and per key or destination, keys hashed, HTTP 429 with
a page for each rule (which limit, until when, what to do)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from esante import ratelimit
from esante.audit.models import AuditEvent, EventType
from esante.counters.models import RateCounter
from esante.notifications.models import OutboundMessage
from esante.portal import limit_pages
from esante.registry import matricule
from esante.registry.models import InsuredPerson
from tests.accounts.test_enumeration import answer_of
from tests.accounts.wizard import (
    PASSWORD,
    activate,
    issue_letter,
    last_one_time_code,
    page_text,
    reach_password_step,
    start,
    submit_code,
    submit_contact,
    submit_one_time_code,
    submit_password,
)
from tests.factories import forget_rate_limits, make_person, years_ago

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

# 12 h 10 UTC on a winter day, 13 h 10 in Luxembourg: the hour's windows end at 14 h 00
# there, the day's at midnight UTC, 1 h 00 there.
WINTER_NOON = datetime.datetime(2026, 3, 2, 12, 10, tzinfo=datetime.UTC)


def prefill(action: str, times: int, *, ip: str = "127.0.0.1", key: str = "") -> None:
    request = RequestFactory().get("/", REMOTE_ADDR=ip)
    for _hit in range(times):
        ratelimit.hit(action, request, key=key)


def limit(action: str, scope: str) -> int:
    return next(rule.limit for rule in ratelimit.RATE_LIMITS[action] if rule.scope == scope)


def test_wrong_pairs_are_limited_per_matricule(client: Client, alice: InsuredPerson) -> None:
    code = issue_letter(alice)
    start(client)
    # From other addresses: the limit follows the matricule, not the visitor.
    prefill(
        "activation.code_failed",
        limit("activation.code_failed", "key"),
        ip="10.0.0.9",
        key=alice.matricule,
    )

    response = submit_code(client, alice.matricule, code)

    assert response.status_code == 429
    page = page_text(response)
    assert "<h1>Trop de codes d'activation erronés pour ce matricule</h1>" in page
    assert "Au plus 10 codes d'activation erronés sont acceptés par jour" in page
    assert "courrier d'activation le plus récent" in page
    assert int(response["Retry-After"]) > 0
    assert AuditEvent.objects.filter(event_type=EventType.RATE_LIMITED).exists()


def test_wrong_pairs_are_limited_per_ip(client: Client, alice: InsuredPerson) -> None:
    code = issue_letter(alice)
    start(client)
    prefill("activation.code_failed", limit("activation.code_failed", "ip"), key="other")

    assert submit_code(client, alice.matricule, code).status_code == 429


def test_a_right_pair_under_the_limit_is_not_counted(client: Client, alice: InsuredPerson) -> None:
    code = issue_letter(alice)
    start(client)
    prefill(
        "activation.code_failed", limit("activation.code_failed", "key") - 1, key=alice.matricule
    )

    assert submit_code(client, alice.matricule, code).status_code == 302


def test_new_letter_requests_are_limited(client: Client, alice: InsuredPerson) -> None:
    with time_machine.travel(WINTER_NOON, tick=False):
        start(client)
        prefill("activation.new_letter", limit("activation.new_letter", "key"), key=alice.matricule)

        response = client.post(
            reverse("activation:new_letter"),
            {
                "courrier-matricule": alice.matricule,
                "courrier-captcha_0": "x",
                "courrier-captcha_1": "PASSED",
            },
        )

    assert response.status_code == 429
    page = page_text(response)
    assert "<h1>Trop de demandes de courrier pour ce matricule</h1>" in page
    assert "Au plus 3 nouveaux courriers d'activation peuvent être demandés par jour" in page
    # A day's window ends at midnight UTC: 1 h 00 in Luxembourg, in winter.
    assert "Cette limite prend fin demain à 1 h 00 (heure de Luxembourg)." in page
    assert "Attendez demain 1 h 00 avant de faire une nouvelle demande" in page


def test_no_identifier_is_kept_in_clear_in_the_counters(alice: InsuredPerson) -> None:
    prefill("activation.code_failed", 1, key=alice.matricule)

    keys = cache_keys()

    assert keys
    assert not any(alice.matricule in key or "127.0.0.1" in key for key in keys)


def cache_keys() -> list[str]:
    backend = cache
    if hasattr(backend, "keys"):  # django-redis
        return [str(key) for key in backend.keys("*")]
    return list(RateCounter.objects.values_list("key", flat=True))


def test_new_captchas_and_their_audio_are_limited_per_ip(client: Client) -> None:
    prefill("captcha.refresh", limit("captcha.refresh", "ip"))
    prefill("captcha.audio", limit("captcha.audio", "ip"))

    refresh = client.get(reverse("captcha-refresh"), headers={"x-requested-with": "XMLHttpRequest"})
    audio = client.get(reverse("captcha-audio", args=["0" * 40]))

    assert refresh.status_code == audio.status_code == 429
    assert "<h1>Trop de nouvelles images de vérification" in page_text(refresh)
    assert "Au plus 300 nouvelles images de vérification sont données par heure" in page_text(
        refresh
    )
    assert "<h1>Trop d'écoutes de la vérification audio" in page_text(audio)


def test_under_the_limit_a_new_captcha_is_served(client: Client) -> None:
    refresh = client.get(reverse("captcha-refresh"), headers={"x-requested-with": "XMLHttpRequest"})

    assert refresh.status_code == 200
    assert refresh.json()["key"]


# A family sharing one phone: each person gets their own 5 codes an hour at the number,
# and the number no more than 15 an hour, whoever they are for.

MOBILE = "621 123 456"
PHONE = "+352621123456"


@pytest.fixture
def winter_noon() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(WINTER_NOON, tick=False) as traveller:
        yield traveller


def activate_on_the_family_phone(person: InsuredPerson) -> None:
    client = Client()
    reach_password_step(client, person)
    assert submit_password(client).status_code == 302
    assert submit_contact(client, "sms", MOBILE).status_code == 302
    assert submit_one_time_code(client, last_one_time_code(PHONE)).status_code == 302


@pytest.fixture
def family(winter_noon: time_machine.Traveller) -> list[InsuredPerson]:
    """Bob and his children Léa and Hugo, whose codes all go by SMS to Bob's phone."""
    people = [
        make_person("Bob", "Martin", years_ago(44), sex="M"),
        make_person("Léa", "Martin", years_ago(9), sex="F"),
        make_person("Hugo", "Martin", years_ago(13), sex="M"),
    ]
    for person in people:
        activate_on_the_family_phone(person)
    forget_rate_limits()  # the activations' own codes are not the scenario's
    return people


def ask_for_a_login_code(person: InsuredPerson) -> Response:
    return Client().post(
        reverse("patient:login"), {"matricule": person.matricule, "password": PASSWORD}
    )


def codes_sent_to_the_phone() -> int:
    return OutboundMessage.objects.filter(recipient=PHONE).count()


def test_a_parent_and_two_children_on_one_phone_each_get_five_codes_an_hour(
    family: list[InsuredPerson],
) -> None:
    before = codes_sent_to_the_phone()

    answers = [ask_for_a_login_code(person) for person in family for _login in range(5)]

    assert [answer["Location"] for answer in answers] == [reverse("patient:login_code")] * 15
    assert codes_sent_to_the_phone() == before + 15


def test_the_sixth_code_an_hour_for_one_person_is_refused_with_the_persons_page(
    family: list[InsuredPerson],
) -> None:
    bob, lea, _hugo = family
    for _login in range(5):
        assert ask_for_a_login_code(bob).status_code == 302

    refused = ask_for_a_login_code(bob)

    assert refused.status_code == 429
    page = page_text(refused)
    assert "<h1>Trop de codes demandés pour vous à ce numéro ou à cette adresse</h1>" in page
    assert (
        "Au plus 5 codes à usage unique sont envoyés par heure à une même personne au même "
        "numéro de téléphone ou à la même adresse e-mail." in page
    )
    assert "Cette limite prend fin à 14 h 00 (heure de Luxembourg)." in page
    assert "Attendez 14 h 00 ou utilisez votre adresse e-mail" in page
    assert "tentatives" not in page and "essais" not in page
    assert refused["Retry-After"] == str(50 * 60)
    event = AuditEvent.objects.filter(event_type=EventType.RATE_LIMITED).latest("pk")
    assert (event.details["action"], event.details["scope"]) == ("otp.send", "key")
    # Léa's codes are hers: her father's refusal is not hers.
    assert ask_for_a_login_code(lea).status_code == 302


def test_the_sixteenth_code_an_hour_to_one_number_is_refused_with_the_numbers_page(
    family: list[InsuredPerson],
) -> None:
    alice = make_person("Alice", "Martin", years_ago(41), sex="F")
    activate_on_the_family_phone(alice)  # Bob's wife uses his phone too
    forget_rate_limits()
    for person in family:
        for _login in range(5):
            assert ask_for_a_login_code(person).status_code == 302
    before = codes_sent_to_the_phone()

    refused = ask_for_a_login_code(alice)  # her first, the number's sixteenth

    assert refused.status_code == 429
    assert codes_sent_to_the_phone() == before
    page = page_text(refused)
    assert "<h1>Ce numéro ou cette adresse e-mail a reçu beaucoup de codes</h1>" in page
    assert "Au plus 15 codes à usage unique sont envoyés par heure à un même numéro" in page
    assert "Cette limite prend fin à 14 h 00 (heure de Luxembourg)." in page
    assert "Attendez 14 h 00 ou utilisez votre propre adresse e-mail ou votre propre numéro" in page
    event = AuditEvent.objects.filter(event_type=EventType.RATE_LIMITED).latest("pk")
    assert event.details["scope"] == "destination"


def test_the_persons_page_is_the_same_for_a_matricule_without_an_account(
    alice: InsuredPerson, winter_noon: time_machine.Traveller
) -> None:
    """*Mot de passe oublié*, the code sent on asking and four *Renvoyer le code* a minute
    apart: the fifth is refused with the same page, account or not."""
    activate(Client(), alice, "alice@example.lu")
    forget_rate_limits()
    unknown = matricule.make(years_ago(40, days=17), 977)
    assert not InsuredPerson.objects.filter(matricule=unknown).exists()
    refusals = []
    for number in (alice.matricule, unknown):
        client = Client()
        asked = client.post(
            reverse("patient:recovery"),
            {"matricule": number, "captcha_0": "x", "captcha_1": "PASSED"},
        )
        assert asked.status_code == 302
        for _resend in range(5):
            winter_noon.shift(datetime.timedelta(seconds=61))
            answer = client.post(reverse("patient:recovery_code"), {"resend": "1"})
        refusals.append(answer)

    with_account, without = (answer_of(refusal) for refusal in refusals)
    assert with_account == without
    assert with_account.status == 429
    page = page_text(refusals[1])
    assert "<h1>Trop de codes demandés pour vous à ce numéro ou à cette adresse</h1>" in page
    assert "Cette limite prend fin à 14 h 00 (heure de Luxembourg)." in page


@pytest.mark.parametrize(
    ("now", "period", "until", "ends"),
    [
        (WINTER_NOON, ratelimit.HOUR, "14 h 00", "prend fin à 14 h 00"),
        (WINTER_NOON, ratelimit.DAY, "demain 1 h 00", "prend fin demain à 1 h 00"),
        # 0 h 30 in Luxembourg: the day's window ends the same day there.
        (WINTER_NOON.replace(hour=23, minute=30), ratelimit.DAY, "1 h 00", "prend fin à 1 h 00"),
        # Summer time: 2 hours ahead of UTC.
        (WINTER_NOON.replace(month=7), ratelimit.HOUR, "15 h 00", "prend fin à 15 h 00"),
        (WINTER_NOON.replace(month=7), ratelimit.DAY, "demain 2 h 00", "prend fin demain à 2 h 00"),
    ],
)
def test_the_page_says_when_the_counters_window_ends_in_luxembourg_time(
    monkeypatch: pytest.MonkeyPatch,
    now: datetime.datetime,
    period: datetime.timedelta,
    until: str,
    ends: str,
) -> None:
    rule = ratelimit.Rule("key", 1, period)
    monkeypatch.setitem(ratelimit.RATE_LIMITS, "test.limit", (rule,))
    request = RequestFactory().get("/")
    with time_machine.travel(now, tick=False):
        ratelimit.check_and_hit("test.limit", request, key="someone")
        with pytest.raises(ratelimit.RateLimited) as refused:
            ratelimit.check_and_hit("test.limit", request, key="someone")
        with translation.override("fr"):
            page = limit_pages.context("test.limit", rule, refused.value.window_end, now)

    assert page["limit_advice"] == f"Attendez {until} avant de réessayer."
    assert ends in page["limit_ends"]


REFUSING_RULES = [
    (action, rule)
    for action, rules in ratelimit.RATE_LIMITS.items()
    for rule in rules
    if action != "audit.access_denied"  # counts what is audited, refuses nothing
]


@pytest.mark.parametrize(
    ("action", "rule"), REFUSING_RULES, ids=[f"{a}:{r.scope}" for a, r in REFUSING_RULES]
)
def test_every_rule_has_its_own_page_saying_its_count_and_period(
    action: str, rule: ratelimit.Rule
) -> None:
    with translation.override("fr"):
        page = limit_pages.context(action, rule, WINTER_NOON, WINTER_NOON)

    assert (action, rule.scope) in limit_pages.PAGES
    period = {ratelimit.HOUR: "par heure", ratelimit.DAY: "par jour"}[rule.period]
    assert f"Au plus {rule.limit} " in page["limit_rule"]
    assert period in page["limit_rule"]
    assert "%(" not in page["limit_advice"]
