"""The superviseur's pages: the audit log (filters, pagination, readable actors) and the
statistics (funnel, delivery failures, locks per day) as SVG charts and as CSV."""

from __future__ import annotations

import csv
import datetime
import io
import re
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from esante.accounts.models import Account, CodeChannel
from esante.audit.actions import record_event, record_events
from esante.audit.models import AuditEvent, EventType
from esante.helpdesk import stats
from esante.helpdesk.supervisor_views import AUDIT_PAGE_SIZE, csv_cell
from esante.notifications.models import Channel, DeliveryState, OutboundMessage
from esante.registry.letters import issue_letters
from esante.registry.models import InsuredPerson, LetterBatch
from tests.accounts.wizard import page_text
from tests.factories import make_person

pytestmark = pytest.mark.django_db

SUPERVISOR_URLS = ["helpdesk:audit_log", "helpdesk:statistics", "helpdesk:statistics_csv"]


def local_time(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """A moment of a local day (Europe/Luxembourg), as time_machine wants it."""
    zone = timezone.get_current_timezone()
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zone)


def at(moment: datetime.datetime, event_type: EventType, **kwargs: Any) -> AuditEvent:
    with time_machine.travel(moment, tick=False):
        return record_event(event_type, **kwargs)


# Who may see the pages.


def test_an_agent_gets_403_on_every_supervisor_page(agent_client: Client) -> None:
    for name in SUPERVISOR_URLS:
        assert agent_client.get(reverse(name)).status_code == 403, name


def test_a_superviseur_gets_every_supervisor_page(superviseur_client: Client) -> None:
    for name in SUPERVISOR_URLS:
        assert superviseur_client.get(reverse(name)).status_code == 200, name


# The audit log.

MARCH_10 = datetime.date(2025, 3, 10)
MARCH_12 = datetime.date(2025, 3, 12)


@pytest.fixture
def logged(alice: InsuredPerson, bob: InsuredPerson, agent: Any) -> dict[str, AuditEvent]:
    return {
        "issued": at(
            local_time(MARCH_10, 9),
            EventType.LETTER_ISSUED,
            actor="command:issue-letters",
            person=alice,
        ),
        "lookup": at(
            local_time(MARCH_10, 23, 30),
            EventType.HELPDESK_LOOKUP,
            actor=f"staff:{agent.pk}",
            person=alice,
            ip_address="192.0.2.7",
            staff=agent.username,
        ),
        "login": at(
            local_time(MARCH_12, 0, 15),
            EventType.LOGIN_SUCCEEDED,
            actor=f"person:{bob.pk}",
            person=bob,
            ip_address="2001:db8::1",
            reason="<script>alert(1)</script>",
        ),
    }


def shown(response: Any) -> list[AuditEvent]:
    assert response.status_code == 200, page_text(response)[:2000]
    return [row["event"] for row in response.context["rows"]]


def test_the_log_lists_the_newest_first_with_readable_actors(
    superviseur_client: Client,
    logged: dict[str, AuditEvent],
    agent: Any,
    alice: InsuredPerson,
    bob: InsuredPerson,
) -> None:
    response = superviseur_client.get(reverse("helpdesk:audit_log"), {"au": "2025-03-31"})

    assert shown(response) == [logged["login"], logged["lookup"], logged["issued"]]
    page = page_text(response)
    assert f"Titulaire ({bob.esante_id})" in page
    assert f"<td>{agent.username}</td>" in page
    assert "Commande « issue-letters »" in page
    assert f"{alice.esante_id}</a> Alice Martin" in page
    assert "192.0.2.7" in page and "2001:db8::1" in page
    assert "Consultation d'une personne par le helpdesk" in page
    # Details are shown as key=value, escaped.
    raw = response.content.decode()
    assert "<script>alert(1)</script>" not in raw
    assert "reason=&lt;script&gt;alert(1)&lt;/script&gt;" in raw


def test_the_log_filters_by_person_staff_type_and_dates(
    superviseur_client: Client,
    logged: dict[str, AuditEvent],
    agent: Any,
    alice: InsuredPerson,
    bob: InsuredPerson,
) -> None:
    url = reverse("helpdesk:audit_log")
    by_matricule = superviseur_client.get(url, {"personne": alice.matricule})
    by_esante_id = superviseur_client.get(url, {"personne": f" {bob.esante_id} "})
    by_staff = superviseur_client.get(url, {"membre": agent.username})
    by_type = superviseur_client.get(url, {"type": EventType.LETTER_ISSUED.value})
    on_march_10 = superviseur_client.get(url, {"du": "2025-03-10", "au": "2025-03-10"})
    from_march_11 = superviseur_client.get(url, {"du": "2025-03-11", "au": "2025-03-31"})
    combined = superviseur_client.get(
        url, {"personne": alice.esante_id, "type": EventType.HELPDESK_LOOKUP.value}
    )

    assert shown(by_matricule) == [logged["lookup"], logged["issued"]]
    assert shown(by_esante_id) == [logged["login"]]
    assert shown(by_staff) == [logged["lookup"]]
    assert shown(by_type) == [logged["issued"]]
    # Local days: 23:30 on 10 March is still the 10th, 00:15 on the 12th already the 12th.
    assert shown(on_march_10) == [logged["lookup"], logged["issued"]]
    assert shown(from_march_11) == [logged["login"]]
    assert shown(combined) == [logged["lookup"]]
    assert "1 événement correspond aux filtres." in page_text(combined)


def test_the_staff_filter_counts_only_that_members_events(
    superviseur_client: Client, superviseur: Any, agent: Any
) -> None:
    response = superviseur_client.get(
        reverse("helpdesk:audit_log"), {"membre": superviseur.username}
    )

    events = shown(response)
    assert events and {event.actor for event in events} == {f"staff:{superviseur.pk}"}
    assert EventType.STAFF_LOGIN in {event.event_type for event in events}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"personne": "Martin"}, "Saisissez 11 ou 13 chiffres"),
        ({"personne": "1970010112345"}, "Aucune personne du registre ne porte ce numéro."),
        ({"membre": "inconnu"}, "Aucun membre du personnel ne porte cet identifiant."),
        ({"type": "drop table"}, "Choisissez un type de la liste."),
        ({"du": "2025-13-45"}, "Saisissez une date valide (AAAA-MM-JJ)."),
        ({"au": "hier"}, "Saisissez une date valide (AAAA-MM-JJ)."),
        (
            {"du": "2025-03-12", "au": "2025-03-10"},
            "La date de début doit précéder la date de fin.",
        ),
    ],
)
def test_bad_filters_get_a_french_message(
    superviseur_client: Client, logged: dict[str, AuditEvent], params: dict[str, str], message: str
) -> None:
    response = superviseur_client.get(reverse("helpdesk:audit_log"), params)

    assert response.status_code == 400
    page = page_text(response)
    assert message in page
    assert 'role="alert"' in page
    assert "<table" not in page


def test_pages_of_50_keep_the_filters(
    superviseur_client: Client, alice: InsuredPerson, bob: InsuredPerson
) -> None:
    start = local_time(MARCH_10, 8)
    record_events(
        AuditEvent(
            at=start + datetime.timedelta(minutes=minute),
            event_type=EventType.LOGIN_FAILED,
            actor="anonymous",
            person=person,
        )
        for minute in range(60)
        for person in (alice, bob)
    )
    params = {"personne": alice.esante_id, "type": EventType.LOGIN_FAILED.value}
    url = reverse("helpdesk:audit_log")

    first = superviseur_client.get(url, params)
    assert len(shown(first)) == AUDIT_PAGE_SIZE
    assert {event.person_id for event in shown(first)} == {alice.pk}
    assert "Page 1 sur 2" in page_text(first)
    assert "Anonyme" in page_text(first)
    next_link = re.search(r'<a href="([^"]+)">Page suivante</a>', page_text(first))
    assert next_link is not None
    assert next_link.group(1) == (
        f"?personne={alice.esante_id}&type={EventType.LOGIN_FAILED.value}&page=2"
    )

    second = superviseur_client.get(url + next_link.group(1))
    assert len(shown(second)) == 10
    assert {event.person_id for event in shown(second)} == {alice.pk}
    assert shown(second)[-1].at == start
    previous = re.search(r'<a href="([^"]+)">Page précédente</a>', page_text(second))
    assert previous is not None
    assert f"personne={alice.esante_id}" in previous.group(1)
    assert "page=1" in previous.group(1)


# The statistics.


@pytest.fixture
def world() -> dict[str, Any]:
    """Four persons with letters in a posted batch; three pass step 1, two step 3, one is
    active (the other's channel was reset); failed SMS and e-mails; locks on two days."""
    people = [make_person(f"Personne{index}", "Test") for index in range(4)]
    extra = make_person("Hors", "Période")
    batch = issue_letters(people, actor="test")
    assert batch is not None
    LetterBatch.objects.filter(pk=batch.pk).update(posted_at=timezone.now())
    first, second, third, _fourth = people
    for person in (first, first, second, third):
        record_event(EventType.LETTER_CODE_ACCEPTED, actor="anonymous", person=person)
    record_event(EventType.ACCOUNT_ACTIVATED, actor=f"person:{first.pk}", person=first)
    record_event(EventType.ACCOUNT_ACTIVATED, actor=f"person:{second.pk}", person=second)
    record_event(EventType.ACCOUNT_REACTIVATED, actor=f"person:{second.pk}", person=second)
    now = timezone.now()
    for person, channel in ((first, CodeChannel.EMAIL), (second, "")):
        Account.objects.create(
            person=person,
            password="argon2$x",
            code_channel=channel,
            email="personne@example.lu" if channel else "",
            cgu_version="1",
            cgu_accepted_at=now,
        )
    long_ago = now - datetime.timedelta(days=60)
    # An activation before the period counts in no stage.
    at(long_ago, EventType.LETTER_CODE_ACCEPTED, actor="anonymous", person=extra)
    at(long_ago, EventType.ACCOUNT_ACTIVATED, actor=f"person:{extra.pk}", person=extra)

    def message(channel: str, state: str, error: str = "", created: Any = now) -> None:
        OutboundMessage.objects.create(
            channel=channel,
            recipient="x",
            body="",
            state=state,
            last_error=error,
            created_at=created,
        )

    message(Channel.SMS, DeliveryState.FAILED, "rejected")
    message(Channel.SMS, DeliveryState.PENDING, "timeout, retrying")
    message(Channel.SMS, DeliveryState.SENT)
    message(Channel.SMS, DeliveryState.FAILED, "old", created=long_ago)
    message(Channel.EMAIL, DeliveryState.FAILED)
    message(Channel.EMAIL, DeliveryState.SENT)
    message(Channel.LETTER, DeliveryState.FAILED, "returned")

    today = timezone.localdate()
    three_days_ago = today - datetime.timedelta(days=3)
    yesterday = today - datetime.timedelta(days=1)
    for moment in (local_time(three_days_ago, 10), local_time(three_days_ago, 23, 50)):
        at(moment, EventType.ACCOUNT_LOCKED, actor="anonymous", person=first)
    # 00:20 local is the previous day in UTC: it counts on the local day.
    at(local_time(yesterday, 0, 20), EventType.ACCOUNT_LOCKED, actor="anonymous", person=second)
    at(local_time(today - datetime.timedelta(days=45), 12), EventType.ACCOUNT_LOCKED, actor="x")
    return {
        "people": people,
        "batch": batch,
        "three_days_ago": three_days_ago,
        "yesterday": yesterday,
    }


def values(figures: list[stats.Figure]) -> dict[str, int]:
    return {figure.key: figure.value for figure in figures}


def test_the_numbers_of_the_period(world: dict[str, Any]) -> None:
    period = stats.default_period()

    assert period.end == timezone.localdate() and len(period.days) == 30
    assert values(stats.funnel(period)) == {
        "courriers_postes": 4,
        "etape_1_reussie": 3,
        "etape_3_reussie": 2,
        "comptes_actifs": 1,
    }
    assert values(stats.delivery_failures(period)) == {"sms": 2, "email": 1}
    locks = dict(stats.locks_per_day(period))
    assert len(locks) == 30
    assert locks[world["three_days_ago"]] == 2
    assert locks[world["yesterday"]] == 1
    assert sum(locks.values()) == 3


def test_without_a_posted_batch_the_funnel_counts_printed_letters(world: dict[str, Any]) -> None:
    LetterBatch.objects.update(posted_at=None)

    first = stats.funnel(stats.default_period())[0]

    assert (first.key, first.value) == ("courriers_imprimes", 4)


def test_an_empty_period_gives_zeros(db: None) -> None:
    period = stats.Period(datetime.date(2020, 2, 1), datetime.date(2020, 2, 29))

    assert [figure.value for figure in stats.funnel(period)] == [0, 0, 0, 0]
    assert values(stats.delivery_failures(period)) == {"sms": 0, "email": 0}
    assert stats.locks_per_day(period)[-1] == (datetime.date(2020, 2, 29), 0)
    chart = stats.bar_chart(stats.funnel(period), percent_of_first=True)
    assert {bar.width for bar in chart.bars} == {"0"}
    assert {bar.percent for bar in chart.bars} == {None}


def test_the_chart_geometry() -> None:
    figures = [stats.Figure(str(value), str(value), value) for value in (200, 150, 1, 0)]
    chart = stats.bar_chart(figures, percent_of_first=True)

    assert [bar.width for bar in chart.bars] == ["340", "255", "2", "0"]
    assert [bar.percent for bar in chart.bars] == [100, 75, 0, 0]
    days = [(datetime.date(2025, 3, 1) + datetime.timedelta(days=n), n % 3) for n in range(30)]
    columns = stats.column_chart(days)
    assert len(columns.columns) == 30 and columns.largest == 2 and columns.total == 30
    assert columns.columns[2].height == "162" and columns.columns[0].height == "0"
    assert [label.day.day for label in columns.labels] == [1, 6, 11, 16, 21, 26]


def test_the_statistics_page_draws_three_accessible_charts(
    superviseur_client: Client, world: dict[str, Any]
) -> None:
    response = superviseur_client.get(reverse("helpdesk:statistics"))

    assert response.status_code == 200
    page = page_text(response)
    assert page.count('role="img"') == 3
    for chart in ("chart-funnel", "chart-failures", "chart-locks"):
        assert f'aria-labelledby="{chart}-title"' in page
        assert f'<title id="{chart}-title">' in page
    assert "Courriers postés : 4 (100 %) ; Étape 1 réussie (code du courrier) : 3 (75 %)" in page
    assert "Comptes actifs : 1 (25 %)" in page
    assert page.count('<details class="chart-data">') == 3 and page.count("<table") == 3
    assert '<td class="number">75 %</td>' in page
    assert "3 blocages temporaires" in page
    assert "3 messages (SMS ou e-mail)" in page
    # Coordinates are never localized into "337,5".
    assert not re.search(r'(width|height|x|y)="\d+,\d', page)
    today = timezone.localdate()
    start = today - datetime.timedelta(days=29)
    csv_link = reverse("helpdesk:statistics_csv") + f"?du={start}&au={today}"
    assert f'href="{csv_link}"' in page
    assert "Télécharger en CSV" in page


def test_the_statistics_of_a_chosen_period(
    superviseur_client: Client, world: dict[str, Any]
) -> None:
    day = world["three_days_ago"]
    response = superviseur_client.get(reverse("helpdesk:statistics"), {"du": day, "au": day})

    assert response.status_code == 200
    assert response.context["locks"].total == 2
    assert len(response.context["locks"].columns) == 1
    assert f'value="{day.isoformat()}"' in page_text(response)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"du": "demain"}, "Saisissez une date valide (AAAA-MM-JJ)."),
        (
            {"du": "2025-03-12", "au": "2025-03-10"},
            "La date de début doit précéder la date de fin.",
        ),
        ({"du": "2023-01-01", "au": "2025-01-01"}, "La période ne peut dépasser 366 jours."),
        # Days whose day before or after is not a date: once a 500 (OverflowError).
        ({"au": "0001-01-01"}, "Saisissez une date entre 1900 et 2100."),
        ({"du": "9999-12-31"}, "Saisissez une date entre 1900 et 2100."),
        ({"du": "0001-01-01", "au": "0001-01-02"}, "Saisissez une date entre 1900 et 2100."),
    ],
)
def test_a_bad_period_gets_a_french_message(
    superviseur_client: Client, params: dict[str, str], message: str
) -> None:
    page = superviseur_client.get(reverse("helpdesk:statistics"), params)
    export = superviseur_client.get(reverse("helpdesk:statistics_csv"), params)

    assert page.status_code == 400
    assert message in page_text(page)
    assert 'role="img"' not in page_text(page)
    assert export.status_code == 400
    assert message in export.content.decode()


def read_csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


def test_the_csv_export(superviseur_client: Client, world: dict[str, Any]) -> None:
    today = timezone.localdate()
    start = today - datetime.timedelta(days=29)

    response = superviseur_client.get(reverse("helpdesk:statistics_csv"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="statistiques-esante-{start}-{today}.csv"'
    )
    assert not response.content.startswith(b"\xef\xbb\xbf")
    rows = read_csv(response)
    assert rows[0] == ["section", "cle", "valeur"]
    assert rows[1:7] == [
        ["entonnoir", "courriers_postes", "4"],
        ["entonnoir", "etape_1_reussie", "3"],
        ["entonnoir", "etape_3_reussie", "2"],
        ["entonnoir", "comptes_actifs", "1"],
        ["echecs_envoi", "sms", "2"],
        ["echecs_envoi", "email", "1"],
    ]
    locks = rows[7:]
    assert len(locks) == 30
    assert locks[0] == ["blocages", start.isoformat(), "0"]
    assert ["blocages", world["three_days_ago"].isoformat(), "2"] in locks
    assert ["blocages", world["yesterday"].isoformat(), "1"] in locks


def test_the_csv_of_a_chosen_period(superviseur_client: Client, world: dict[str, Any]) -> None:
    day = world["yesterday"]

    response = superviseur_client.get(
        reverse("helpdesk:statistics_csv"), {"du": day.isoformat(), "au": day.isoformat()}
    )

    assert f'filename="statistiques-esante-{day}-{day}.csv"' in response["Content-Disposition"]
    assert read_csv(response)[-1] == ["blocages", day.isoformat(), "1"]


def test_no_csv_cell_starts_a_formula(
    superviseur_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert csv_cell("=1+1") == "'=1+1"
    assert csv_cell("+33") == "'+33"
    assert csv_cell("-2") == "'-2"
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("\t=1") == "'\t=1"
    assert csv_cell("sms") == "sms" and csv_cell(12) == "12"
    monkeypatch.setattr(
        stats,
        "delivery_failures",
        lambda period: [stats.Figure('=HYPERLINK("http://x")', "x", -1)],
    )

    rows = read_csv(superviseur_client.get(reverse("helpdesk:statistics_csv")))

    assert ["echecs_envoi", '\'=HYPERLINK("http://x")', "'-1"] in rows
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


@pytest.mark.parametrize("params", [{"au": "9999-12-31"}, {"du": "0001-01-01"}])
def test_the_journal_refuses_a_date_out_of_bounds_in_french(
    superviseur_client: Client, params: dict[str, str]
) -> None:
    page = superviseur_client.get(reverse("helpdesk:audit_log"), params)

    assert page.status_code == 400
    assert "Saisissez une date entre 1900 et 2100." in page_text(page)
