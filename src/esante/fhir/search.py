"""Search parameters and the searchset Bundle (FHIR R4 search.html), for the few
parameters each resource supports: an unknown parameter, a modifier or a value of the
wrong type is refused with an OperationOutcome (strict handling), never ignored in
silence — a patient app must not believe it filtered what it did not."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, QueryDict
from django.utils import timezone

from esante.fhir.errors import invalid

# Parameters every search takes (`_format` is content negotiation, checked before).
COMMON = {"_count", "_offset", "_format", "_total"}


def parameters(request: HttpRequest, allowed: Iterable[str]) -> QueryDict:
    known = set(allowed) | COMMON
    for name in request.GET:
        if name not in known:
            base = name.split(":", 1)[0]
            if base in known:
                raise invalid(f"The modifier of '{name}' is not supported.")
            raise invalid(f"Unknown search parameter '{name}'.")
    # Checked now, before the search journals its read: a refused search reads nothing.
    page_size(request.GET)
    offset(request.GET)
    if request.GET.get("_total", "accurate") not in ("none", "estimate", "accurate"):
        raise invalid("'_total' is none, estimate or accurate (the total is always exact).")
    return request.GET


def page_size(params: QueryDict) -> int:
    raw = params.get("_count", "")
    if raw == "":
        return int(settings.ESANTE_FHIR_DEFAULT_COUNT)
    if not _whole_number(raw):
        raise invalid("'_count' must be a whole number.")
    if len(raw.lstrip("0")) > 9:  # clamped anyway; int() refuses past 4,300 digits
        return int(settings.ESANTE_FHIR_MAX_COUNT)
    return min(int(raw), int(settings.ESANTE_FHIR_MAX_COUNT))


def offset(params: QueryDict) -> int:
    raw = params.get("_offset", "0")
    if not _whole_number(raw) or len(raw) > 9:
        raise invalid("'_offset' must be a whole number.")
    return int(raw)


def _whole_number(raw: str) -> bool:
    """ASCII digits only: str.isdigit() takes "²", which int() refuses (a 500), and "١٢"."""
    return raw.isascii() and raw.isdigit()


# Dates ----------------------------------------------------------------------------------

_PREFIXES = ("eq", "ne", "lt", "le", "gt", "ge", "sa", "eb")
_DATE = re.compile(
    r"^(?P<year>\d{4})(-(?P<month>\d{2})(-(?P<day>\d{2})"
    r"(T(?P<time>\d{2}:\d{2}(:\d{2}(\.\d+)?)?)(?P<zone>Z|[+-]\d{2}:\d{2}))?)?)?$",
    re.ASCII,  # \d: 0-9 only
)


@dataclass(frozen=True)
class DateRange:
    """A date search value: its prefix and the range its precision covers [start, end)."""

    prefix: str
    start: datetime.datetime
    end: datetime.datetime


def date_value(raw: str, name: str) -> DateRange:
    prefix, value = ("eq", raw)
    if raw[:2] in _PREFIXES:
        prefix, value = raw[:2], raw[2:]
    match = _DATE.match(value)
    if match is None:
        raise invalid(f"'{name}' must be a date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime).")
    try:
        year = int(match["year"])
        if match["time"]:
            moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return DateRange(prefix, moment, moment + datetime.timedelta(seconds=1))
        zone = timezone.get_current_timezone()
        if match["day"]:
            start = datetime.datetime(year, int(match["month"]), int(match["day"]), tzinfo=zone)
            end = start + datetime.timedelta(days=1)
        elif match["month"]:
            month = int(match["month"])
            start = datetime.datetime(year, month, 1, tzinfo=zone)
            end = datetime.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
        else:
            start = datetime.datetime(year, 1, 1, tzinfo=zone)
            end = datetime.datetime(year + 1, 1, 1, tzinfo=zone)
    except (ValueError, OverflowError) as error:
        raise invalid(f"'{name}' is not a valid date.") from error
    return DateRange(prefix, start, end)


def date_filter(field: str, values: list[str], name: str, *, is_date: bool = False) -> Q:
    """Each value ANDed (`date=ge2025&date=lt2026`); `is_date` for a DateField."""
    found = Q()
    for raw in values:
        ors = Q()
        for each in raw.split(","):  # a comma is OR
            ors |= _one_date(field, date_value(each, name), is_date)
        found &= ors
    return found


def _one_date(field: str, value: DateRange, is_date: bool) -> Q:
    start: datetime.datetime | datetime.date = value.start
    end: datetime.datetime | datetime.date = value.end
    if is_date:
        start = value.start.date()
        end = value.end.date()
        if value.end.time() != datetime.time(0):
            end += datetime.timedelta(days=1)
    if value.prefix == "eq":
        return Q(**{f"{field}__gte": start, f"{field}__lt": end})
    if value.prefix == "ne":
        return Q(**{f"{field}__lt": start}) | Q(**{f"{field}__gte": end})
    if value.prefix in ("lt", "eb"):
        return Q(**{f"{field}__lt": start})
    if value.prefix == "le":
        return Q(**{f"{field}__lt": end})
    if value.prefix in ("gt", "sa"):
        return Q(**{f"{field}__gte": end})
    return Q(**{f"{field}__gte": start})  # ge


# Tokens and references ----------------------------------------------------------------------


def token_values(raw: str) -> list[tuple[str | None, str]]:
    """`[system]|code` values, comma-separated (OR): (None, code) matches any system."""
    found: list[tuple[str | None, str]] = []
    for each in raw.split(","):
        if "|" in each:
            system, code = each.split("|", 1)
            found.append((system, code))
        else:
            found.append((None, each))
    if not all(code for _system, code in found):
        raise invalid("A token search value needs a code.")
    return found


def reference_id(raw: str, resource_type: str, name: str) -> str:
    """The id of `Type/id`, a bare id, or an absolute URL ending with `Type/id`."""
    value = raw.rstrip("/")
    if "/" not in value:
        return value
    parts = value.split("/")
    if len(parts) >= 2 and parts[-2] == resource_type and parts[-1]:
        return parts[-1]
    raise invalid(f"'{name}' must reference a {resource_type}.")


def single(params: QueryDict, name: str) -> str | None:
    values = params.getlist(name)
    if not values:
        return None
    if len(values) > 1 or "," in values[0]:
        raise invalid(f"'{name}' takes one value.")
    if not values[0]:
        raise invalid(f"'{name}' needs a value.")
    return values[0]


# The Bundle --------------------------------------------------------------------------------


def bundle(
    request: HttpRequest,
    base: str,
    resource_type: str,
    *,
    resources: list[dict[str, Any]],
    total: int,
    start: int,
    size: int,
) -> dict[str, Any]:
    def link(relation: str, at: int) -> dict[str, str]:
        query = [
            (name, value)
            for name, values in request.GET.lists()
            if name not in ("_offset", "_count")
            for value in values
        ]
        query += [("_count", str(size)), ("_offset", str(at))]
        return {"relation": relation, "url": f"{base}/{resource_type}?{urlencode(query)}"}

    links = [link("self", start), link("first", 0)]
    if size and start > 0:
        links.append(link("previous", max(0, start - size)))
    if size and start + size < total:
        links.append(link("next", start + size))
    if size and total:
        links.append(link("last", ((total - 1) // size) * size))
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}/{each['resourceType']}/{each['id']}",
                "resource": each,
                "search": {"mode": "match"},
            }
            for each in resources
        ],
    }


def paged(items: list[Any] | Any, start: int, size: int) -> list[Any]:
    return list(items[start : start + size]) if size else []
