"""A one-time code allows five guesses, even when they are sent at once: each takes its
try before it is compared
(esante.accounts.authenticators.one_time_codes.CodeVerification.verify)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from esante.accounts.authenticators import one_time_codes as verification_module
from esante.accounts.authenticators.one_time_codes import CodeVerification, Outcome
from esante.accounts.models import CodeChannel, CodePurpose, OneTimeCode
from esante.keyed_hash import hash_matches
from esante.registry.models import InsuredPerson
from tests.accounts.wizard import last_one_time_code

pytestmark = pytest.mark.django_db


def sent_code(person: InsuredPerson) -> CodeVerification:
    request = RequestFactory().post("/", REMOTE_ADDR="127.0.0.9")
    return CodeVerification.send(
        request,
        purpose=CodePurpose.LOGIN,
        flow_id="flow-tries",
        person=person,
        channel=CodeChannel.EMAIL,
        destination="alice@example.lu",
    )


def test_a_guess_arriving_while_the_last_try_is_compared_is_not_compared(
    alice: InsuredPerson, monkeypatch: pytest.MonkeyPatch
) -> None:
    verification = sent_code(alice)
    OneTimeCode.objects.filter(pk=verification.code.pk).update(failed_attempts=4)
    compared: list[str] = []
    inner: list[Any] = []

    def slow_compare(stored: str, kind: str, typed: str) -> bool:
        compared.append(typed)
        if not inner:  # while this guess is being compared, another one arrives
            other = CodeVerification.find(verification.code.pk, "flow-tries")
            assert other is not None
            inner.append(other.verify("222222"))
        return hash_matches(stored, kind, typed)

    monkeypatch.setattr(verification_module, "hash_matches", slow_compare)

    first = verification.verify("111111")

    assert compared == ["111111"]  # the second guess found no try left
    assert inner[0].outcome is Outcome.EXHAUSTED
    assert first.outcome is Outcome.EXHAUSTED
    assert OneTimeCode.objects.get(pk=verification.code.pk).failed_attempts == 5


def test_the_right_code_gives_its_try_back(alice: InsuredPerson) -> None:
    verification = sent_code(alice)
    typed = last_one_time_code("alice@example.lu")
    wrong = "000000" if typed != "000000" else "111111"
    assert verification.verify(wrong).remaining_attempts == 4

    assert verification.verify(typed).outcome is Outcome.OK

    code = OneTimeCode.objects.get(pk=verification.code.pk)
    assert code.consumed_at is not None and code.failed_attempts == 1
    assert verification.verify(typed).outcome is Outcome.USED  # never twice
