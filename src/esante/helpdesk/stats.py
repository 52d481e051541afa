"""The superviseur's statistics over a period of local days: the activation funnel, the
failures to deliver codes by channel, the account locks per day — each a few aggregate
queries, never a loop over rows — and the geometry of their server-side SVG charts.

A period runs from the first local midnight of `start` to the local midnight after `end`
(both days included), in the project's time zone.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from esante.accounts.models import Account
from esante.audit.models import AuditEvent, EventType
from esante.notifications.models import Channel, DeliveryState, OutboundMessage
from esante.registry.models import ActivationLetter

DEFAULT_DAYS = 30
MAX_DAYS = 366
# The channels that carry one-time codes, in the order shown.
CODE_CHANNELS = (Channel.SMS, Channel.EMAIL)


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date  # included

    @property
    def days(self) -> list[datetime.date]:
        count = (self.end - self.start).days + 1
        return [self.start + datetime.timedelta(days=offset) for offset in range(count)]

    @property
    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """[first local midnight, local midnight after the last day)."""
        zone = timezone.get_current_timezone()
        after = self.end + datetime.timedelta(days=1)
        return (
            datetime.datetime.combine(self.start, datetime.time.min, tzinfo=zone),
            datetime.datetime.combine(after, datetime.time.min, tzinfo=zone),
        )


def default_period(today: datetime.date | None = None) -> Period:
    """The last 30 days, today included."""
    end = today or timezone.localdate()
    return Period(end - datetime.timedelta(days=DEFAULT_DAYS - 1), end)


@dataclass(frozen=True)
class Figure:
    """One number of a chart: a funnel stage, a channel, a day."""

    key: str
    label: str | Promise
    value: int


# The numbers.


def funnel(period: Period) -> list[Figure]:
    """Letters posted → step 1 passed → step 3 passed → active, in distinct persons.

    The first stage counts the persons with a letter in a batch posted in the period;
    when no batch of the period was marked as posted, the persons with a letter in a
    batch printed in the period instead (its key says which). The last stage counts, of
    the persons who passed step 3 in the period, those whose account still has a code
    channel (a channel reset by the helpdesk waits for a reactivation).
    """
    start, end = period.bounds
    distinct_persons = Count("person", distinct=True)
    letters = ActivationLetter.objects.order_by()
    posted = letters.filter(batch__posted_at__gte=start, batch__posted_at__lt=end).aggregate(
        n=distinct_persons
    )["n"]
    first = Figure("courriers_postes", _("Courriers postés"), posted)
    if not posted:
        printed = letters.filter(
            batch__isnull=False, batch__created_at__gte=start, batch__created_at__lt=end
        ).aggregate(n=distinct_persons)["n"]
        first = Figure("courriers_imprimes", _("Courriers imprimés (aucun lot posté)"), printed)
    events = AuditEvent.objects.order_by().filter(at__gte=start, at__lt=end)
    step1 = events.filter(event_type=EventType.LETTER_CODE_ACCEPTED).aggregate(n=distinct_persons)[
        "n"
    ]
    activated = events.filter(
        event_type__in=[EventType.ACCOUNT_ACTIVATED, EventType.ACCOUNT_REACTIVATED],
        person__isnull=False,
    )
    step3 = activated.aggregate(n=distinct_persons)["n"]
    active = (
        Account.objects.exclude(code_channel="")
        .filter(person__in=activated.values("person"))
        .count()
    )
    return [
        first,
        Figure("etape_1_reussie", _("Étape 1 réussie (code du courrier)"), step1),
        Figure("etape_3_reussie", _("Étape 3 réussie (compte activé)"), step3),
        Figure("comptes_actifs", _("Comptes actifs"), active),
    ]


def delivery_failures(period: Period) -> list[Figure]:
    """Messages of the period that failed or met an error, by code channel (zeros too)."""
    start, end = period.bounds
    counts = dict(
        OutboundMessage.objects.order_by()
        .filter(created_at__gte=start, created_at__lt=end, channel__in=CODE_CHANNELS)
        .filter(Q(state=DeliveryState.FAILED) | ~Q(last_error=""))
        .values_list("channel")
        .annotate(n=Count("id"))
        .values_list("channel", "n")
    )
    return [
        Figure(channel.value, channel.label, counts.get(channel, 0)) for channel in CODE_CHANNELS
    ]


def locks_per_day(period: Period) -> list[tuple[datetime.date, int]]:
    """Accounts locked (too many wrong passwords) on each local day, zeros included."""
    start, end = period.bounds
    counts = dict(
        AuditEvent.objects.order_by()
        .filter(event_type=EventType.ACCOUNT_LOCKED, at__gte=start, at__lt=end)
        .annotate(day=TruncDate("at", tzinfo=timezone.get_current_timezone()))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    return [(day, counts.get(day, 0)) for day in period.days]


# The charts' geometry: numbers as strings, so that no template localizes "12,5" into an
# SVG attribute.

BAR_CHART_WIDTH = 520
BAR_ROW = 52
BAR_HEIGHT = 22
BAR_MAX_WIDTH = 340  # leaves room for "12345 (100 %)" after the longest bar
COLUMN_CHART_WIDTH = 640


def _n(number: float) -> str:
    return f"{number:.1f}".removesuffix(".0")


@dataclass(frozen=True)
class Bar:
    label: str | Promise
    value: int
    percent: int | None
    label_y: str
    bar_y: str
    width: str
    value_x: str
    value_y: str


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: str
    height: str


def bar_chart(figures: list[Figure], *, percent_of_first: bool = False) -> BarChart:
    """Horizontal bars, one per figure, on a scale of the largest; with each value's
    percentage of the first figure's when asked (None when the first is zero)."""
    largest = max((figure.value for figure in figures), default=0)
    first = figures[0].value if figures else 0
    bars = []
    for index, figure in enumerate(figures):
        top = index * BAR_ROW
        width = BAR_MAX_WIDTH * figure.value / largest if largest else 0.0
        if figure.value:
            width = max(width, 2.0)
        percent = None
        if percent_of_first and first:
            percent = round(100 * figure.value / first)
        bars.append(
            Bar(
                label=figure.label,
                value=figure.value,
                percent=percent,
                label_y=_n(top + 16),
                bar_y=_n(top + 24),
                width=_n(width),
                value_x=_n(width + 8),
                value_y=_n(top + 24 + BAR_HEIGHT - 6),
            )
        )
    return BarChart(bars, str(BAR_CHART_WIDTH), _n(len(figures) * BAR_ROW + 4))


COLUMN_LEFT = 40
COLUMN_RIGHT = COLUMN_CHART_WIDTH - 8
COLUMN_TOP = 14
COLUMN_BOTTOM = 176
COLUMN_LABELS = 6


@dataclass(frozen=True)
class Column:
    day: datetime.date
    value: int
    x: str
    y: str
    width: str
    height: str


@dataclass(frozen=True)
class DayLabel:
    day: datetime.date
    x: str


@dataclass(frozen=True)
class ColumnChart:
    columns: list[Column]
    labels: list[DayLabel]
    largest: int
    total: int
    peak: tuple[datetime.date, int] | None
    width: str
    height: str
    left: str
    right: str
    top: str
    bottom: str
    label_y: str
    tick_x: str
    top_tick_y: str
    zero_tick_y: str
    middle_x: str
    middle_y: str


def column_chart(days: list[tuple[datetime.date, int]]) -> ColumnChart:
    """One column per day on a scale from zero to the largest day, and a few dates under
    the axis (the first, then evenly spaced, never two touching)."""
    largest = max((value for _day, value in days), default=0)
    slot = (COLUMN_RIGHT - COLUMN_LEFT) / max(len(days), 1)
    plot_height = COLUMN_BOTTOM - COLUMN_TOP
    columns = []
    for index, (day, value) in enumerate(days):
        height = plot_height * value / largest if largest else 0.0
        width = max(slot * 0.7, 1.0)
        columns.append(
            Column(
                day=day,
                value=value,
                x=_n(COLUMN_LEFT + index * slot + (slot - width) / 2),
                y=_n(COLUMN_BOTTOM - height),
                width=_n(width),
                height=_n(height),
            )
        )
    step = max(1, math.ceil(len(days) / COLUMN_LABELS))
    picked = list(range(0, len(days), step))
    labels = [
        DayLabel(days[index][0], _n(COLUMN_LEFT + index * slot + slot / 2)) for index in picked
    ]
    peak = max(days, key=lambda item: item[1]) if largest else None
    return ColumnChart(
        columns=columns,
        labels=labels,
        largest=largest,
        total=sum(value for _day, value in days),
        peak=peak,
        width=str(COLUMN_CHART_WIDTH),
        height=str(COLUMN_BOTTOM + 30),
        left=str(COLUMN_LEFT),
        right=str(COLUMN_RIGHT),
        top=str(COLUMN_TOP),
        bottom=str(COLUMN_BOTTOM),
        label_y=str(COLUMN_BOTTOM + 20),
        tick_x=str(COLUMN_LEFT - 6),
        top_tick_y=str(COLUMN_TOP + 5),
        zero_tick_y=str(COLUMN_BOTTOM + 5),
        middle_x=_n((COLUMN_LEFT + COLUMN_RIGHT) / 2),
        middle_y=_n((COLUMN_TOP + COLUMN_BOTTOM) / 2),
    )
