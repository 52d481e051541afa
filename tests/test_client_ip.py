"""The client's address behind load balancers (ESANTE_TRUSTED_PROXIES): what per-IP rate
limits count, and what the audit log and the access journal record."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpRequest
from django.test import RequestFactory

from esante import ratelimit
from esante.client_address import resolve as client_ip

BALANCERS = ["10.0.0.0/24", "2001:db8::1"]


def ip_of(remote: str, forwarded: str | None = None) -> str:
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote, headers=headers))


def test_without_trusted_proxies_the_header_is_never_read(settings: Any) -> None:
    settings.ESANTE_TRUSTED_PROXIES = []
    assert ip_of("198.51.100.7", "203.0.113.9") == "198.51.100.7"


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        ("10.0.0.5", "203.0.113.9", "203.0.113.9"),
        # What the client sent itself is to the left of what our balancers appended.
        ("10.0.0.5", "1.2.3.4, 203.0.113.9", "203.0.113.9"),
        ("10.0.0.5", "1.2.3.4, 203.0.113.9, 10.0.0.6", "203.0.113.9"),
        ("2001:db8::1", "2001:db8:ffff::42", "2001:db8:ffff::42"),
        # Straight to a node, not through a balancer: the header is the client's own.
        ("198.51.100.7", "203.0.113.9", "198.51.100.7"),
        # Nothing usable: the balancer's own address, never a forged one.
        ("10.0.0.5", "", "10.0.0.5"),
        ("10.0.0.5", "10.0.0.6", "10.0.0.5"),
        ("10.0.0.5", "203.0.113.9, <script>", "10.0.0.5"),
    ],
)
def test_the_right_most_address_that_is_not_a_balancer_is_the_client(
    settings: Any, remote: str, forwarded: str, client: str
) -> None:
    settings.ESANTE_TRUSTED_PROXIES = BALANCERS
    assert ip_of(remote, forwarded) == client


@pytest.mark.django_db
def test_clients_behind_one_balancer_are_counted_apart(settings: Any) -> None:
    """Without this, every patient behind the balancer would share one counter: ten
    requests anywhere in the country would stop everyone's new-letter requests."""
    settings.ESANTE_TRUSTED_PROXIES = BALANCERS

    def request(client: str) -> HttpRequest:
        return RequestFactory().post(
            "/", REMOTE_ADDR="10.0.0.5", headers={"X-Forwarded-For": client}
        )

    for attempt in range(10):
        ratelimit.check_and_hit("activation.new_letter", request("203.0.113.9"), key=f"k{attempt}")
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.check_and_hit("activation.new_letter", request("203.0.113.9"), key="k10")
    ratelimit.check_and_hit("activation.new_letter", request("198.51.100.7"), key="k11")
