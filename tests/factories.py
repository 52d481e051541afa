"""Named test people (STYLE.md §7): alice the patient, bob her parent or assistant,
charlie an outsider who must be refused everywhere; minors for the parent journeys."""

from __future__ import annotations

import datetime
import itertools

from django.core.cache import cache
from django.utils import timezone

from esante.counters.models import RateCounter
from esante.registry import matricule
from esante.registry.actions import create_person
from esante.registry.models import InsuredPerson

_serials = itertools.count(100)


def years_ago(years: int, days: int = 0) -> datetime.date:
    today = timezone.localdate()
    try:
        date = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        date = today.replace(year=today.year - years, day=28)
    return date - datetime.timedelta(days=days)


def make_person(
    first_name: str = "Alice",
    last_name: str = "Martin",
    birth_date: datetime.date | None = None,
    **fields: object,
) -> InsuredPerson:
    birth_date = birth_date or datetime.date(1985, 4, 12)
    defaults: dict[str, object] = {
        "address_line1": "12, rue de la Gare",
        "postal_code": "L-1611",
        "locality": "Luxembourg",
    }
    defaults.update(fields)
    return create_person(
        matricule=matricule.make(birth_date, next(_serials) % 1000),
        first_name=first_name,
        last_name=last_name,
        birth_date=birth_date,
        **defaults,  # type: ignore[arg-type]
    )


def forget_rate_limits() -> None:
    """Every rate-limit count dropped, as for a new visitor: the cache (Redis, or its
    table) and the counters' table used without Redis (esante.counters)."""
    cache.clear()
    RateCounter.objects.all().delete()
