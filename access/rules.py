"""The door's rules about time and membership: opening hours in the centre's own time zone,
whether a membership is running today, how long a visit (and its door photo) may last, and the
rules per door (the door's own hours, exit only, membership types, anti-passback,
a PIN used at two doors). Their order of evaluation is in docs/door.md."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from access.messages import Reason
from access.models import AccessEvent, AntiPassback, Door, Method, PassbackScope
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


def open_interval(centre: Centre, at: datetime, hours: dict | None = None) -> tuple[datetime, datetime] | None:
    """The opening interval of the centre (or of `hours`, a door's own, in the centre's time
    zone) that contains `at`, or None when it is closed then.

    A centre with no opening hours at all is open around the clock (a new centre must not lock
    everybody out); once any day is set, a day left out is closed (members.validators)."""
    hours = hours or centre.opening_hours
    if not hours:
        return None
    now = local(centre, at)
    # Today's intervals, then yesterday's that run past midnight (["22:00", "06:00"]: overnight).
    for back in (0, 1):
        day = datetime.combine(now.date() - timedelta(days=back), time(0), tzinfo=now.tzinfo)
        for start, end in hours.get(DAYS[day.weekday()], []):
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


# --- rules per door ---------------------------------------------------------
PIN_REUSE_WINDOW = timedelta(minutes=1)


def door_refusal(door: Door, centre: Centre, direction: str, at: datetime) -> Reason | None:
    """Why nobody may enter through this door now (None: the door is open), before anyone is
    identified: no face is analysed and no PIN checked for an entry every member would be refused.
    Leaving is never refused."""
    if direction != "in":
        return None
    if door.exit_only:
        return Reason.EXIT_ONLY
    if door_open(door, centre, at):
        return None
    # The door's own hours replace the centre's: each says which was closed.
    return Reason.DOOR_CLOSED if door.opening_hours else Reason.OUTSIDE_OPENING_HOURS


def door_open(door: Door, centre: Centre, at: datetime) -> bool:
    """Within the door's hours (its own, else the centre's): what the tablet shows."""
    if door.opening_hours:
        return open_interval(centre, at, door.opening_hours) is not None
    return is_open(centre, at)


def allowed_types(door: Door) -> set[str]:
    return {t.strip().casefold() for t in door.membership_types.split(",") if t.strip()}


def _entered_again(door: Door, member: Member, at: datetime) -> bool:
    """The member's last granted pass in the window, at this door (or any door of its centre),
    was an entry: an `in` after an `in` without an `out`. Read from the access events alone."""
    events = AccessEvent.objects.filter(
        member=member,
        decision=AccessEvent.Decision.GRANTED,
        at__gte=at - timedelta(minutes=door.anti_passback_minutes),
        at__lte=at,
    )
    if door.anti_passback_scope == PassbackScope.CENTRE:
        events = events.filter(centre_id=door.centre_id)
    else:
        events = events.filter(door_id=door.pk)
    return events.order_by("-at", "-pk").values_list("direction", flat=True).first() == "in"


def member_refusal(member: Member, door: Door, method: str, at: datetime) -> Reason | None:
    """The door's rules for an identified member entering (None: they may)."""
    types = allowed_types(door)
    if types and member.membership_type.strip().casefold() not in types:
        return Reason.MEMBERSHIP_TYPE_NOT_ALLOWED
    if (
        door.refuse_pin_reuse
        and method == Method.PIN
        and AccessEvent.objects.filter(
            member=member,
            method=Method.PIN,
            decision=AccessEvent.Decision.GRANTED,
            direction="in",
            at__gt=at - PIN_REUSE_WINDOW,
            at__lte=at,
        )
        .exclude(door_id=door.pk)
        .exists()
    ):
        return Reason.PIN_REUSED
    if door.anti_passback == AntiPassback.REFUSE and _entered_again(door, member, at):
        return Reason.ANTI_PASSBACK
    return None


def entry_flag(door: Door | None, member: Member | None, direction: str, at: datetime) -> str:
    """The flag a granted entry carries for staff ("" none): anti-passback in flag mode."""
    if door is None or member is None or direction != "in" or door.anti_passback != AntiPassback.FLAG:
        return ""
    return "anti_passback" if _entered_again(door, member, at) else ""
