"""The door's rules about time and membership: opening hours in the centre's own time zone,
whether a membership is running today, and how long a visit (and its door photo) may last."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from members.models import Centre, Member
from members.policy import ChainPolicy
from members.validators import DAYS

# Visits of a chain that keeps no door photos (door_photo_max_hours = 0) still end on their own.
DEFAULT_VISIT_HOURS = ChainPolicy.door_photo_max_hours


def local(centre: Centre, at: datetime) -> datetime:
    return at.astimezone(ZoneInfo(centre.time_zone))


def _parse(day: datetime, hhmm: str) -> datetime:
    if hhmm == "24:00":
        return datetime.combine(day.date() + timedelta(days=1), time(0), tzinfo=day.tzinfo)
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine(day.date(), time(hours, minutes), tzinfo=day.tzinfo)


def open_interval(centre: Centre, at: datetime) -> tuple[datetime, datetime] | None:
    """The opening interval of the centre that contains `at`, or None when it is closed then.

    A centre with no opening hours at all is open around the clock (a new centre must not lock
    everybody out); once any day is set, a day left out is closed (members.validators)."""
    if not centre.opening_hours:
        return None
    now = local(centre, at)
    # Today's intervals, then yesterday's that run past midnight (["22:00", "06:00"]: overnight).
    for back in (0, 1):
        day = datetime.combine(now.date() - timedelta(days=back), time(0), tzinfo=now.tzinfo)
        for start, end in centre.opening_hours.get(DAYS[day.weekday()], []):
            opens, closes = _parse(day, start), _parse(day, end)
            if closes <= opens:
                closes = _parse(day + timedelta(days=1), end)
            if opens <= now < closes:
                return opens, closes
    return None


def is_open(centre: Centre, at: datetime) -> bool:
    return not centre.opening_hours or open_interval(centre, at) is not None


def membership_running(member: Member, at: datetime, centre: Centre) -> bool:
    today = local(centre, at).date()
    return (
        member.status == Member.Status.ACTIVE
        and member.start_date <= today
        and (member.end_date is None or today <= member.end_date)
    )


def visit_end(centre: Centre, policy: ChainPolicy, checked_in_at: datetime) -> datetime:
    """When a visit stops counting as "inside", and its door photo must be gone at the latest:
    the centre's closing time, but never later than the chain's door_photo_max_hours."""
    latest = checked_in_at + timedelta(hours=policy.door_photo_max_hours or DEFAULT_VISIT_HOURS)
    interval = open_interval(centre, checked_in_at)
    return min(latest, interval[1]) if interval else latest
