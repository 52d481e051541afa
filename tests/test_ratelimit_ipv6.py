"""Per-IP rate limits and IPv6: a host may take any address of its /64, so the /64 is
what a per-IP rule counts. The logs and the audit log keep the full address."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.urls import reverse

from esante import ratelimit
from esante.audit.models import AuditEvent, EventType
from esante.client_address import address_block
from esante.client_address import resolve as client_ip

ACTION = "activation.new_letter"  # 10 an hour per IP


def ip_limit(action: str = ACTION) -> int:
    return next(rule.limit for rule in ratelimit.RATE_LIMITS[action] if rule.scope == "ip")


def request_from(address: str, forwarded: str | None = None) -> HttpRequest:
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    return RequestFactory().post("/", REMOTE_ADDR=address, headers=headers)


@pytest.mark.parametrize(
    ("address", "block"),
    [
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
        ("fe80::1", "fe80::/64"),
        ("::1", "::/64"),
        # IPv4 stays itself, also mapped into IPv6 (a dual-stack socket's view of it):
        # masked to a /64, every IPv4 client in the world would share one counter.
        ("203.0.113.9", "203.0.113.9"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("", ""),
        ("not-an-address", "not-an-address"),
    ],
)
def test_a_per_ip_rule_counts_an_ipv6_address_by_its_64(address: str, block: str) -> None:
    assert address_block(address) == block


@pytest.mark.django_db
def test_addresses_of_one_64_share_their_per_ip_budget() -> None:
    for host in range(ip_limit()):
        ratelimit.check_and_hit(ACTION, request_from(f"2001:db8:0:1::{host + 1:x}"), key=f"k{host}")

    with pytest.raises(ratelimit.RateLimited):
        ratelimit.check_and_hit(ACTION, request_from("2001:db8:0:1:ffff::beef"), key="fresh")
    # The next /64 has its own budget.
    ratelimit.check_and_hit(ACTION, request_from("2001:db8:0:2::1"), key="fresh")


@pytest.mark.django_db
def test_ipv4_addresses_keep_their_own_budgets_even_when_mapped() -> None:
    for attempt in range(ip_limit()):
        ratelimit.check_and_hit(ACTION, request_from("::ffff:203.0.113.9"), key=f"k{attempt}")

    with pytest.raises(ratelimit.RateLimited):
        ratelimit.check_and_hit(ACTION, request_from("203.0.113.9"), key="fresh")
    ratelimit.check_and_hit(ACTION, request_from("::ffff:203.0.113.10"), key="fresh")
    ratelimit.check_and_hit(ACTION, request_from("203.0.113.11"), key="fresh2")


@pytest.mark.django_db
def test_behind_a_balancer_the_forwarded_ipv6_client_is_counted_by_its_64(settings: Any) -> None:
    settings.ESANTE_TRUSTED_PROXIES = ["10.0.0.0/24"]
    for host in range(ip_limit()):
        request = request_from("10.0.0.5", f"2001:db8:aa:bb::{host + 1:x}")
        ratelimit.check_and_hit(ACTION, request, key=f"k{host}")

    with pytest.raises(ratelimit.RateLimited):
        ratelimit.check_and_hit(ACTION, request_from("10.0.0.5", "2001:db8:aa:bb::99"), key="x")


def test_client_ip_still_gives_the_full_ipv6_address() -> None:
    assert client_ip(request_from("2001:db8:1:2:aaaa:bbbb:cccc:dddd")) == (
        "2001:db8:1:2:aaaa:bbbb:cccc:dddd"
    )


@pytest.mark.django_db
def test_the_audit_row_of_a_refusal_keeps_the_full_address() -> None:
    address = "2001:db8:0:7:1234:5678:9abc:def0"
    for host in range(ip_limit("captcha.refresh")):
        ratelimit.hit("captcha.refresh", request_from(f"2001:db8:0:7::{host + 1:x}"))

    response = Client(REMOTE_ADDR=address).get(
        reverse("captcha-refresh"), headers={"x-requested-with": "XMLHttpRequest"}
    )

    assert response.status_code == 429
    event = AuditEvent.objects.get(event_type=EventType.RATE_LIMITED)
    assert event.ip_address == address
