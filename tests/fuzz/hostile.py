"""Hostile inputs for the fuzz properties, and the checks every answer must pass.

Each property draws its own number of examples from EXAMPLES; their sum is the size of
the whole fuzz run (the issue "Hostile input" asks for at least 10,000 inputs).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from esante.registry import matricule
from tests.factories import forget_rate_limits

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

# Examples per property, weighted towards the cheap answers (a rendered form page costs
# ~15-30 ms under the test client, a JSON or redirect answer a few ms):
# 800 + 500 + 400 + 600 + 1200 + 300 + 500 + 1500 + 600 + 300 + 1500 + 800 + 1000 + 500
# = 10,500 generated inputs in all; the DSP's forms about professionals, the patient's
# (logged in, test_hostile_record_forms): 200 + 200 + 150 + 150 = 700 more; the
# professionals' own (test_hostile_care_forms): 300 + 200 + 200 + 100 = 800 more.
EXAMPLES: dict[str, int] = {
    "activation_start": 800,
    "activation_code": 500,
    "activation_new_letter": 400,
    "patient_login": 600,
    "patient_login_code": 1200,
    "recovery": 300,
    "helpdesk_login": 500,
    "set_language": 1500,
    "query_parameters": 600,
    "captcha": 300,
    "passkey_json": 1500,
    "raw_bodies": 800,
    "random_paths": 1000,
    "csrf_missing": 500,
    "professional_search": 200,
    "professional_actions": 200,
    "document_professionals": 150,
    "journal_filter": 150,
    "care_declare": 300,
    "care_emergency": 200,
    "care_document": 200,
    "care_own_document": 100,
}
TOTAL_EXAMPLES = sum(EXAMPLES.values())  # 12,000


def fuzz_settings(name: str) -> settings:
    """Deterministic (derandomized, no example database), no deadline: CI reruns the
    same inputs every time."""
    return settings(
        max_examples=EXAMPLES[name],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


# Payloads that must never come back as live markup.
MARKUP_PAYLOADS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><img src=x onerror=alert(1)>",
    "<ScRiPt>alert(1)</sCrIpT>",
    '</textarea><script>alert("x")</script>',
    "javascript:alert(1)//<script>alert(1)</script>",
)
PAYLOADS = (
    *MARKUP_PAYLOADS,
    "' OR 1=1 --",
    '" OR ""="',
    "1; DROP TABLE registry_insuredperson; --",
    "' UNION SELECT password FROM auth_user --",
    "{{7*7}}",
    "{% debug %}",
    "${7*7}",
    "${jndi:ldap://x}",
    "../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "%00",
    "%ff%fe",
    "\u202e",
    "\ufeff",
    "\x00",
    "\r\nSet-Cookie: x=1",
    "//evil.example/",
    "https://evil.example/",
    "/\\evil.example",
    "javascript:alert(1)",
    "NaN",
    "-1",
    "1e309",
    "99999999999999999999999999",
    "PASSED",
    "test",
    "on",
    "",
    " ",
)

# A valid matricule (nobody's: the factories start serials at 100), so that some inputs
# get past the form into the checks behind it.
VALID_MATRICULES = (
    matricule.make(datetime.date(1985, 4, 12), 7),
    matricule.make(datetime.date(2001, 12, 31), 42),
)

any_character = st.characters(codec="utf-8")  # control characters included
control_text = st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=20)
oversized = st.builds(
    lambda unit, times: (unit or "A") * times,
    st.text(any_character, min_size=1, max_size=8),
    st.integers(min_value=700, max_value=3000),
)
hostile_text: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(any_character, max_size=40),
    control_text,
    st.tuples(st.text(any_character, max_size=10), st.sampled_from(MARKUP_PAYLOADS)).map("".join),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    oversized,
)
matricule_text = st.one_of(st.sampled_from(VALID_MATRICULES), hostile_text)

Value = str | list[str]


def field(values: st.SearchStrategy[str] = hostile_text) -> st.SearchStrategy[Value]:
    """A form value: usually one string, sometimes the field sent several times."""
    return st.one_of(values, values, values, st.lists(values, min_size=2, max_size=3))


def form(
    fields: dict[str, st.SearchStrategy[str]], fixed: dict[str, str] | None = None
) -> st.SearchStrategy[dict[str, Value]]:
    """A form body: each field present or missing, plus the odd unknown field."""
    optional: dict[str, st.SearchStrategy[Value]] = {
        name: field(values) for name, values in fields.items()
    }
    optional["zz_unknown"] = field()
    return st.fixed_dictionaries(
        {name: st.just(value) for name, value in (fixed or {}).items()}, optional=optional
    )


def strings_in(values: Iterable[Any]) -> Iterable[str]:
    for value in values:
        if isinstance(value, str):
            yield value
        elif isinstance(value, list | tuple):
            yield from strings_in(value)
        elif isinstance(value, dict):
            yield from strings_in(value.keys())
            yield from strings_in(value.values())


def assert_safe(response: Response, *sent: Any) -> None:
    """No server error, and no markup payload typed in comes back unescaped."""
    assert response.status_code < 500, (response.status_code, sent)
    body = response.content.decode("utf-8", errors="replace")
    for value in strings_in(sent):
        for payload in MARKUP_PAYLOADS:
            if payload in value:
                assert payload not in body, f"reflected markup {payload!r} (sent {value!r})"
        lowered = value.lower()
        if ("<script" in lowered or "<img" in lowered) and value.strip() not in (
            "<script",
            "<img",
        ):
            assert value not in body, f"reflected markup (sent {value!r})"


def fresh(client: Client) -> Client:
    """The test's client, as a new visitor: no cookies (so no session, no flow) and no
    rate limit counted yet (they answer 429 after some attempts).

    One client serves all the examples of a property: building a `Client` loads the
    middleware again, and whitenoise then walks every static file (~70 ms).
    """
    client.cookies.clear()
    forget_rate_limits()
    return client
