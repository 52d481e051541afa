"""The production stack proven: two gunicorn nodes, one PostgreSQL, one Redis.

A browser's requests land on either node (a load balancer without sticky sessions):
journeys, counters, locks, sessions and one-use codes must hold across both.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

import pytest
import requests

from tests.cluster.browser import (
    CAPTCHA,
    Browser,
    activate,
    last_one_time_code,
    location,
    log_in,
    reach_one_time_code_step,
    submit_password,
)
from tests.cluster.harness import Cluster, needs_cluster

pytestmark = [pytest.mark.postgres, needs_cluster]

T = TypeVar("T")
RACERS = 50
LOGIN_PAGE = "/connexion/patient/"
CAPTCHA_NOTICE = "recopiez aussi le captcha"


def at_once(works: list[Callable[[], T]]) -> list[T]:
    """Run every work in its own thread, all released together; their results in order."""
    barrier = threading.Barrier(len(works))

    def run(work: Callable[[], T]) -> T:
        barrier.wait()
        return work()

    with ThreadPoolExecutor(len(works)) as pool:
        return list(pool.map(run, works))


def account_of(cluster: Cluster, matricule: str) -> list[tuple[int, int, bool]]:
    """(id, failed_logins, locked) of the person's accounts."""
    return [
        (row[0], row[1], row[2])
        for row in cluster.query(
            "SELECT a.id, a.failed_logins, a.locked_until > now() FROM accounts_account a "
            "JOIN registry_insuredperson p ON p.id = a.person_id WHERE p.matricule = %s",
            matricule,
        )
    ]


def events(cluster: Cluster, matricule: str, event_type: str) -> int:
    rows = cluster.query(
        "SELECT count(*) FROM audit_auditevent e JOIN registry_insuredperson p "
        "ON p.id = e.person_id WHERE p.matricule = %s AND e.event_type = %s",
        matricule,
        event_type,
    )
    return int(rows[0][0])


def test_an_activation_started_on_node_a_finishes_on_node_b(nodes: Cluster) -> None:
    person = nodes.take_person()
    browser = Browser()

    # Commencer on A, step 1 on B, step 2 on A, step 3 on B: the flow lives in Redis.
    reach_one_time_code_step(browser, [nodes.a, nodes.b], person)
    code = last_one_time_code(nodes, person.email)
    created = browser.post(nodes.a, "/activation/etape-3/code/", {"code": code})
    step_4 = browser.get(nodes.b, "/activation/etape-4/")
    onwards = browser.post(nodes.b, "/activation/etape-4/", {})
    done = browser.get(nodes.b, "/activation/etape-5/")

    assert location(created) == "/activation/etape-4/"
    assert step_4.status_code == 200
    assert location(onwards) == "/activation/etape-5/"
    assert done.status_code == 200
    assert len(account_of(nodes, person.matricule)) == 1
    # The letter served once: on either node it now reads "already activated".
    again = Browser()
    again.post(nodes.b, "/activation/commencer/", {"accept_cgu": "on"})
    refused = again.post(
        nodes.a,
        "/activation/etape-1/",
        {"matricule": person.matricule, "code": person.letter_code, **CAPTCHA},
    )
    assert refused.status_code == 400
    assert "déjà activé" in refused.text


def test_the_password_step_on_a_and_the_code_step_on_b_log_in(nodes: Cluster) -> None:
    person = nodes.take_person()
    activate(nodes, person)
    browser = Browser()

    log_in(nodes, browser, person, password_on=nodes.a, code_on=nodes.b)

    for node in nodes.nodes:
        services = browser.get(node, "/mes-services/")
        assert services.status_code == 200, node
        assert "Mes services eSanté" in services.text
    assert events(nodes, person.matricule, "login.succeeded") == 1


def test_login_failures_count_across_nodes_for_the_captcha_and_the_lock(nodes: Cluster) -> None:
    person = nodes.take_person()
    activate(nodes, person)
    browser = Browser()

    def wrong(node: str, *, captcha: bool) -> requests.Response:
        data = {"matricule": person.matricule, "password": "not the password"}
        return browser.post(node, LOGIN_PAGE, {**data, **(CAPTCHA if captcha else {})})

    # Three failures, A B A, without a captcha: under 3 on the shared counter, none asked.
    first = [wrong(node, captcha=False) for node in (nodes.a, nodes.b, nodes.a)]
    # The 4th try, on B, must show the captcha first: B counted A's failures (Redis).
    asked = wrong(nodes.b, captcha=False)
    # Two more failures with the captcha, B then A: the 5th failure locks the account.
    more = [wrong(node, captcha=True) for node in (nodes.b, nodes.a)]
    after_lock = [submit_password(browser, node, person) for node in nodes.nodes]

    assert [answer.status_code for answer in first] == [400, 400, 400]
    assert all(CAPTCHA_NOTICE not in answer.text for answer in first)
    assert asked.status_code == 400
    assert CAPTCHA_NOTICE in asked.text
    assert [answer.status_code for answer in more] == [400, 400]
    ((_id, failed_logins, locked),) = account_of(nodes, person.matricule)
    assert (failed_logins, locked) == (5, True)
    # Locked: the right password is refused on both nodes, with the same message.
    assert [answer.status_code for answer in after_lock] == [400, 400]
    assert all("est incorrect" in answer.text for answer in after_lock)
    assert events(nodes, person.matricule, "account.locked") == 1
    assert events(nodes, person.matricule, "login.succeeded") == 0


def test_codes_sent_to_one_address_are_limited_across_nodes(nodes: Cluster) -> None:
    person = nodes.take_person()
    activate(nodes, person)  # one code sent to the address: 4 left this hour (5 an hour)

    answers = [
        submit_password(Browser(), node, person).status_code
        for node in (nodes.a, nodes.b, nodes.a, nodes.b, nodes.a, nodes.b)
    ]

    # Per node, each would still allow 5: together they stop at the 5th code.
    assert answers == [302, 302, 302, 302, 429, 429]
    sent = nodes.query(
        "SELECT count(*) FROM accounts_onetimecode WHERE destination = %s", person.email
    )
    assert sent[0][0] == 5


def test_a_session_ended_on_one_node_is_refused_on_the_other(nodes: Cluster) -> None:
    person = nodes.take_person()
    activate(nodes, person)
    laptop, phone, tablet = Browser(), Browser(), Browser()
    log_in(nodes, laptop, person, password_on=nodes.a, code_on=nodes.a)
    log_in(nodes, phone, person, password_on=nodes.b, code_on=nodes.b)
    log_in(nodes, tablet, person, password_on=nodes.a, code_on=nodes.b)
    laptop_session = nodes.query(
        "SELECT s.id FROM accounts_patientsession s JOIN accounts_account a "
        "ON a.id = s.account_id JOIN registry_insuredperson p ON p.id = a.person_id "
        "WHERE p.matricule = %s ORDER BY s.id LIMIT 1",
        person.matricule,
    )[0][0]
    assert laptop.get(nodes.b, "/mes-services/").status_code == 200

    # From the phone, on node B: Mon compte ends the laptop's session.
    ended = phone.post(nodes.b, "/mon-compte/", {"end_session": str(laptop_session)})
    # The tablet logs out on node A.
    logged_out = tablet.post(nodes.a, "/deconnexion/", {})

    assert location(ended) == "/mon-compte/"
    assert location(logged_out) == "/"
    for node in nodes.nodes:
        for browser in (laptop, tablet):
            refused = browser.get(node, "/mes-services/")
            assert refused.status_code == 302, node
            assert location(refused).startswith(LOGIN_PAGE + "?suivant="), node
        assert phone.get(node, "/mes-services/").status_code == 200, node


def test_one_login_code_sent_50_times_at_once_over_both_nodes_logs_in_once(
    nodes: Cluster,
) -> None:
    person = nodes.take_person()
    activate(nodes, person)
    browser = Browser()
    assert location(submit_password(browser, nodes.a, person)) == "/connexion/patient/code/"
    code = last_one_time_code(nodes, person.email)
    tabs = [browser.clone() for _ in range(RACERS)]

    answers = at_once(
        [
            partial(tab.post, nodes.nodes[index % 2], "/connexion/patient/code/", {"code": code})
            for index, tab in enumerate(tabs)
        ]
    )

    outcomes = Counter((answer.status_code, location(answer).split("?")[0]) for answer in answers)
    assert outcomes[(302, "/mes-services/")] == 1, outcomes
    # The others: the code already used (400), the per-person limit of wrong codes (429),
    # or the login flow gone with the winner's new session id (back to the login page).
    assert set(outcomes) <= {(302, "/mes-services/"), (400, ""), (429, ""), (302, LOGIN_PAGE)}
    assert events(nodes, person.matricule, "login.succeeded") == 1
    # The winning tab holds the new session id, and it works on both nodes.
    winner = tabs[[location(answer) for answer in answers].index("/mes-services/")]
    for node in nodes.nodes:
        assert winner.get(node, "/mes-services/").status_code == 200, node
    sessions = nodes.query(
        "SELECT count(*) FROM accounts_patientsession s JOIN accounts_account a "
        "ON a.id = s.account_id JOIN registry_insuredperson p ON p.id = a.person_id "
        "WHERE p.matricule = %s",
        person.matricule,
    )
    assert sessions[0][0] == 1


def test_one_activation_one_time_code_sent_50_times_at_once_creates_one_account(
    nodes: Cluster,
) -> None:
    person = nodes.take_person()
    browser = Browser()
    reach_one_time_code_step(browser, [nodes.a, nodes.b], person)
    code = last_one_time_code(nodes, person.email)
    tabs = [browser.clone() for _ in range(RACERS)]

    answers = at_once(
        [
            partial(tab.post, nodes.nodes[index % 2], "/activation/etape-3/code/", {"code": code})
            for index, tab in enumerate(tabs)
        ]
    )

    outcomes = Counter((answer.status_code, location(answer)) for answer in answers)
    # One request created the account and moved the flow to step 4; a request that read
    # the flow after it is sent on to step 4 too; the others find the code used (400) or
    # the person over the limit of wrong codes (429). None creates a second account.
    assert outcomes[(302, "/activation/etape-4/")] >= 1, outcomes
    assert set(outcomes) <= {(302, "/activation/etape-4/"), (400, ""), (429, "")}, outcomes
    assert len(account_of(nodes, person.matricule)) == 1
    assert events(nodes, person.matricule, "account.activated") == 1
    consumed = nodes.query(
        "SELECT count(*) FROM accounts_onetimecode WHERE destination = %s "
        "AND consumed_at IS NOT NULL",
        person.email,
    )
    assert consumed[0][0] == 1


def test_one_letter_used_by_ten_browsers_at_once_activates_one_account(nodes: Cluster) -> None:
    person = nodes.take_person()
    browsers = [Browser() for _ in range(10)]
    emails = [f"browser{index}-{person.email}" for index in range(len(browsers))]
    # Each browser passes steps 1 to 3 with the same letter, its own address and code.
    at_once(
        [
            partial(
                reach_one_time_code_step,
                browser,
                nodes.nodes[index % 2 :] + nodes.nodes[: index % 2],
                person,
                email,
            )
            for index, (browser, email) in enumerate(zip(browsers, emails, strict=True))
        ]
    )
    codes = [last_one_time_code(nodes, email) for email in emails]

    answers = at_once(
        [
            partial(
                browser.post, nodes.nodes[index % 2], "/activation/etape-3/code/", {"code": code}
            )
            for index, (browser, code) in enumerate(zip(browsers, codes, strict=True))
        ]
    )

    outcomes = Counter((answer.status_code, location(answer)) for answer in answers)
    assert outcomes == {(302, "/activation/etape-4/"): 1, (302, "/activation/etape-1/"): 9}
    assert len(account_of(nodes, person.matricule)) == 1
    assert events(nodes, person.matricule, "account.activated") == 1
    loser = browsers[[location(answer) for answer in answers].index("/activation/etape-1/")]
    told = loser.get(nodes.b, "/activation/etape-1/")
    assert "Votre code d'activation n'est plus valable" in told.text.replace("&#x27;", "'")


def test_after_a_race_on_the_activation_code_the_browser_stays_at_step_4(nodes: Cluster) -> None:
    person = nodes.take_person()
    browser = Browser()
    reach_one_time_code_step(browser, [nodes.a, nodes.b], person)
    code = last_one_time_code(nodes, person.email)
    tabs = [browser.clone() for _ in range(RACERS)]
    at_once(
        [
            partial(tab.post, nodes.nodes[index % 2], "/activation/etape-3/code/", {"code": code})
            for index, tab in enumerate(tabs)
        ]
    )

    assert len(account_of(nodes, person.matricule)) == 1
    for node in nodes.nodes:
        assert browser.get(node, "/activation/etape-4/").status_code == 200, node


def test_the_access_log_keeps_no_query_string_and_carries_the_request_id(
    nodes: Cluster,
) -> None:
    """An OpenID Connect callback's `code` travels in the query string: the nodes' access
    log (gunicorn, as `esante serve` runs it) never writes it."""
    secret = "Sp1ffyAuthorizationCode"
    response = requests.get(
        f"{nodes.a}{LOGIN_PAGE}?code={secret}&state=xyz",
        headers={"X-Request-ID": "lb-7f3a9c21", "Referer": f"{nodes.a}/?code={secret}"},
        timeout=30,
    )
    assert response.status_code == 200

    log = nodes.logs[0].read_text()
    assert f'"GET {LOGIN_PAGE} HTTP/1.1" 200' in log
    assert "lb-7f3a9c21" in log
    assert secret not in log
