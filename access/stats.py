"""Hourly statistics that survive erasure: per centre and hour, how many checked in and out, how
many were refused, and the most people inside at once. No member id anywhere, so erasing a
member leaves them as they are (the member notice promises these anonymous counts).

Kept up to date in the same transaction as each access event (count_event, called by
access.services.decision.decide) and, for hours with people inside but no event at all, by the hourly
django-q job sample_hour_starts (schedule: migration access 0006)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from access.models import AccessEvent, HourlyStat, Visit
from justface.tenancy import Scope
from members.models import Centre
from members.selectors import counted_in_statistics, counted_in_statistics_q


def hour_of(at: datetime) -> datetime:
    return at.astimezone(ZoneInfo("UTC")).replace(minute=0, second=0, microsecond=0)


def _counted_visits() -> QuerySet[Visit]:
    """Visits the statistics may count: not those of a member whose data is restricted or who
    objected to statistics (the same rule as count_event's, members.selectors)."""
    return Visit.objects.filter(counted_in_statistics_q("member"))


def _inside(centre_id: int, at: datetime) -> int:
    """Members inside the centre at `at` who may be counted (one indexed query: visit_open)."""
    return (
        _counted_visits()
        .filter(centre_id=centre_id, checked_in_at__lte=at, ends_at__gt=at)
        .filter(Q(checked_out_at=None) | Q(checked_out_at__gt=at))
        .values("member")
        .distinct()
        .count()
    )


def _bump(centre_id: int, hour: datetime, **changes) -> None:
    row, _created = HourlyStat.objects.get_or_create(centre_id=centre_id, hour=hour)
    HourlyStat.objects.filter(pk=row.pk).update(**changes)


def count_event(event: AccessEvent) -> None:
    """Count one access event in its hour. Call inside the event's transaction, after its visit
    has been opened or closed: occupancy only rises at a check-in, so the peak measured here
    is the hour's true peak."""
    at = event.at or timezone.now()
    if event.member_id and not counted_in_statistics(event.member):
        return  # restricted, or objected to statistics (members.selectors)
    if event.decision != AccessEvent.Decision.GRANTED:
        _bump(event.centre_id, hour_of(at), denied=F("denied") + 1)
    elif event.direction == AccessEvent.Direction.IN:
        _bump(
            event.centre_id,
            hour_of(at),
            check_ins=F("check_ins") + 1,
            peak_inside=Greatest(F("peak_inside"), _inside(event.centre_id, at)),
        )
    else:
        _bump(event.centre_id, hour_of(at), check_outs=F("check_outs") + 1)


def sample_hour_starts(*, at: datetime | None = None) -> int:
    """For the hour that has just begun (and the one before, in case a run was missed): the
    people already inside at its start (who may be counted) raise its peak. Idempotent. Returns rows touched."""
    at = at or timezone.now()
    touched = 0
    for hour in (hour_of(at) - timedelta(hours=1), hour_of(at)):
        inside = (
            _counted_visits()
            .filter(checked_in_at__lte=hour, ends_at__gt=hour)
            .filter(Q(checked_out_at=None) | Q(checked_out_at__gt=hour))
            .values("centre")
            .annotate(n=Count("member", distinct=True))
            .values_list("centre", "n")
        )
        for centre_id, n in inside:
            _bump(centre_id, hour, peak_inside=Greatest(F("peak_inside"), n))
            touched += 1
    return touched


def rebuild(
    *, centre: Centre, since: datetime, until: datetime | None = None, on_event: Callable[[], None] | None = None
) -> int:
    """Recount a centre's hours from its access events (installations that had events before
    the statistics existed), from the hour of `since` up to `until` (exclusive; None: now). Peaks
    come from the visits still held; an hour without any event keeps no row (the hourly sampling
    job fills those as time passes). Idempotent. Returns the events counted."""
    rows = HourlyStat.objects.filter(centre=centre, hour__gte=hour_of(since))
    events = AccessEvent.objects.filter(centre=centre, at__gte=hour_of(since))
    if until is not None:
        rows, events = rows.filter(hour__lt=until), events.filter(at__lt=until)
    rows.delete()
    n = 0
    for event in events.order_by("at", "pk").iterator():
        count_event(event)
        n += 1
        if on_event is not None:
            on_event()
    return n


# --- reads: the staff page, its CSV files and the API ---------------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive


def centres_for(scope: Scope) -> QuerySet[Centre]:
    return scope.filter(Centre.objects.select_related("chain"))


def hourly(*, scope: Scope, centre: Centre, period: Period) -> QuerySet[HourlyStat]:
    tz = ZoneInfo(centre.time_zone)
    start = datetime.combine(period.start, datetime.min.time(), tz)
    end = datetime.combine(period.end + timedelta(days=1), datetime.min.time(), tz)
    return scope.filter(HourlyStat.objects.filter(centre=centre, hour__gte=start, hour__lt=end)).order_by("hour")


def hourly_rows(*, scope: Scope, centre: Centre, period: Period) -> list[dict]:
    """One dict per hour with data, in the centre's local time."""
    tz = ZoneInfo(centre.time_zone)
    return [
        {
            "hour": row.hour.astimezone(tz).isoformat(),
            "check_ins": row.check_ins,
            "check_outs": row.check_outs,
            "denied": row.denied,
            "peak_inside": row.peak_inside,
        }
        for row in hourly(scope=scope, centre=centre, period=period)
    ]


def week_heatmap(*, scope: Scope, centre: Centre, period: Period) -> list[dict]:
    """Average check-ins per weekday and local hour over the period: 7 × 24 cells."""
    tz = ZoneInfo(centre.time_zone)
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for row in hourly(scope=scope, centre=centre, period=period):
        local = row.hour.astimezone(tz)
        totals[(local.weekday(), local.hour)] += row.check_ins
    days_of = defaultdict(int)
    day = period.start
    while day <= period.end:
        days_of[day.weekday()] += 1
        day += timedelta(days=1)
    return [
        {"weekday": WEEKDAYS[wd], "hour": h, "check_ins": round(totals[(wd, h)] / max(days_of[wd], 1), 2)}
        for wd in range(7)
        for h in range(24)
    ]


def day_curve(*, scope: Scope, centre: Centre, day: date) -> list[dict]:
    """One local day, hour by hour: check-ins, check-outs and the peak inside."""
    rows = {r["hour"][11:13]: r for r in hourly_rows(scope=scope, centre=centre, period=Period(day, day))}
    return [
        {
            "hour": h,
            "check_ins": rows.get(f"{h:02d}", {}).get("check_ins", 0),
            "check_outs": rows.get(f"{h:02d}", {}).get("check_outs", 0),
            "peak_inside": rows.get(f"{h:02d}", {}).get("peak_inside", 0),
        }
        for h in range(24)
    ]


def month_trend(*, scope: Scope, centre: Centre, period: Period) -> list[dict]:
    """Day by day over the period: check-ins and the day's highest peak."""
    tz = ZoneInfo(centre.time_zone)
    days: dict[date, dict] = {}
    day = period.start
    while day <= period.end:
        days[day] = {"day": day.isoformat(), "check_ins": 0, "peak_inside": 0}
        day += timedelta(days=1)
    for row in hourly(scope=scope, centre=centre, period=period):
        entry = days.get(row.hour.astimezone(tz).date())
        if entry is not None:
            entry["check_ins"] += row.check_ins
            entry["peak_inside"] = max(entry["peak_inside"], row.peak_inside)
    return list(days.values())


MAX_DAYS = 366


def period_from(params) -> tuple[Period, date]:
    """A page's or an API call's period: ?from=&to= (default: the last 28 days) and ?day=
    (default: the last day); bad dates raise ValueError."""
    today = timezone.localdate()
    end = date.fromisoformat(params["to"]) if params.get("to") else today
    start = date.fromisoformat(params["from"]) if params.get("from") else end - timedelta(days=27)
    if end < start:
        raise ValueError(_("The period ends before it starts."))
    if (end - start).days >= MAX_DAYS:
        raise ValueError(_("Choose a period of at most a year."))
    day = date.fromisoformat(params["day"]) if params.get("day") else end
    return Period(start, end), day
