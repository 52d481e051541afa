"""Hostile input in every public form: no server error, no markup typed in reflected."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from esante.accounts.activation.views import NEW_LETTER_PREFIX
from tests.fuzz.hostile import (
    EXAMPLES,
    TOTAL_EXAMPLES,
    Value,
    assert_safe,
    form,
    fresh,
    fuzz_settings,
    hostile_text,
    matricule_text,
)

pytestmark = pytest.mark.django_db

captcha_answer = st.one_of(st.just("PASSED"), hostile_text)
letter_code = st.one_of(st.just("K7QM-4XPA-9TRE"), hostile_text)


def started_activation(client: Client) -> Client:
    fresh(client)
    response = client.post("/activation/commencer/", {"accept_cgu": "on"})
    assert response.status_code == 302, response.status_code
    return client


def test_the_fuzz_run_draws_at_least_10000_inputs() -> None:
    assert sum(EXAMPLES.values()) == TOTAL_EXAMPLES >= 10_000


@fuzz_settings("activation_start")
@given(form({"accept_cgu": hostile_text}))
def test_activation_start(client: Client, data: dict[str, Value]) -> None:
    assert_safe(fresh(client).post("/activation/commencer/", data), data)


@fuzz_settings("activation_code")
@given(
    form(
        {
            "matricule": matricule_text,
            "code": letter_code,
            "captcha_0": hostile_text,
            "captcha_1": captcha_answer,
            "keep": hostile_text,
            "nouveau_captcha": hostile_text,
        }
    )
)
def test_activation_code(client: Client, data: dict[str, Value]) -> None:
    assert_safe(started_activation(client).post("/activation/etape-1/", data), data)


@fuzz_settings("activation_new_letter")
@given(
    form(
        {
            f"{NEW_LETTER_PREFIX}-matricule": matricule_text,
            f"{NEW_LETTER_PREFIX}-captcha_0": hostile_text,
            f"{NEW_LETTER_PREFIX}-captcha_1": captcha_answer,
            "matricule": matricule_text,
        }
    )
)
def test_activation_new_letter(client: Client, data: dict[str, Value]) -> None:
    assert_safe(
        started_activation(client).post("/activation/etape-1/nouveau-courrier/", data), data
    )


@fuzz_settings("patient_login")
@given(
    form(
        {
            "matricule": matricule_text,
            "password": hostile_text,
            "captcha_0": hostile_text,
            "captcha_1": captcha_answer,
            "suivant": hostile_text,
        }
    ),
    hostile_text,
)
def test_patient_login(client: Client, data: dict[str, Value], next_url: str) -> None:
    response = fresh(client).post(
        "/connexion/patient/", data, QUERY_STRING=urlencode({"suivant": next_url})
    )
    assert_safe(response, data, next_url)


@fuzz_settings("patient_login_code")
@given(form({"code": hostile_text, "renvoyer": hostile_text}))
def test_patient_login_code_without_a_flow(client: Client, data: dict[str, Value]) -> None:
    assert_safe(fresh(client).post("/connexion/patient/code/", data), data)


@fuzz_settings("recovery")
@given(form({"matricule": matricule_text, "captcha_0": hostile_text, "captcha_1": captcha_answer}))
def test_password_recovery(client: Client, data: dict[str, Value]) -> None:
    assert_safe(fresh(client).post("/mot-de-passe-oublie/", data), data)


@fuzz_settings("helpdesk_login")
@given(form({"username": hostile_text, "password": hostile_text, "suivant": hostile_text}))
def test_helpdesk_login(client: Client, data: dict[str, Value]) -> None:
    assert_safe(fresh(client).post("/helpdesk/connexion/", data), data)


@fuzz_settings("set_language")
@given(
    form(
        {
            "language": st.one_of(st.sampled_from(["fr", "de", "en", "xx", "de-DE"]), hostile_text),
            "next": hostile_text,
        }
    )
)
def test_set_language(client: Client, data: dict[str, Value]) -> None:
    assert_safe(fresh(client).post("/i18n/setlang/", data), data)
