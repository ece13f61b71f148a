"""Door events in the access report (access.reports): what the doors did (opened after a grant,
forced open, held open, agent offline, tailgating hint ...) in the report's period, centres and
doors, read through the caller's scope like the access events.

Door events are facts about a door. Two kinds can be tied to a person: `opened` and
`tailgating_hint` link the granted access event that opened the door, and so its member while the
access event names one; the report shows that member's number only then. A report for one member
(an access request) holds only the door events tied to that member's access events; the
decision, reason, method and direction filters are the access events' own and leave door events
as they are. `door_events` chooses all of them, only the alarms, or none."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy

from access.models import DoorEvent
from justface.display import label
from justface.tenancy import Scope
from members.models import Member

ALL, ALARMS, NONE = "all", "alarms", "none"
CHOICES = [
    (ALL, gettext_lazy("All door events")),
    (ALARMS, gettext_lazy("Alarms only (forced open, held open, agent offline, tailgating hint)")),
    (NONE, gettext_lazy("No door events")),
]

COLUMNS = [
    ("at", gettext_lazy("Time")),
    ("centre", gettext_lazy("Centre")),
    ("door", gettext_lazy("Door")),
    ("kind", gettext_lazy("Door event")),
    ("closed_at", gettext_lazy("Closed at")),
    ("access_event", gettext_lazy("Access event")),
    ("member_number", gettext_lazy("Member number")),
]
TITLE = gettext_lazy("Door events")


def door_events(*, scope: Scope, filters):
    """The report's door events, oldest first, inside the scope (None when the report has none)."""
    choice = getattr(filters, "door_events", ALL)
    if choice == NONE:
        return None
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(filters.date_from, time.min), tz)
    end = timezone.make_aware(datetime.combine(filters.date_to + timedelta(days=1), time.min), tz)
    qs = scope.filter(DoorEvent.objects.filter(door__centre__chain=filters.chain_id, at__gte=start, at__lt=end))
    if filters.centre_ids:
        qs = qs.filter(door__centre__in=filters.centre_ids)
    if filters.door_ids:
        qs = qs.filter(door__in=filters.door_ids)
    if filters.member_id:
        qs = qs.filter(access_event__member=filters.member_id)
    if choice == ALARMS:
        qs = qs.filter(kind__in=DoorEvent.ALARMS)
    return qs.select_related("door__centre", "access_event").order_by("at", "pk")


def rows(queryset) -> Iterator[list]:
    """One row per door event; a member number only where the event is tied to a member."""
    numbers: dict[int, str] = {}
    for event in queryset.iterator(chunk_size=2000):
        number = ""
        member_id = event.access_event.member_id if event.access_event_id else None
        if member_id:
            if member_id not in numbers:
                member = Member.objects.only("member_number").filter(pk=member_id).first()
                numbers[member_id] = member.member_number if member else ""
            number = numbers[member_id]
        yield [
            timezone.localtime(event.at).isoformat(timespec="seconds"),
            event.door.centre.name,
            event.door.name,
            str(label("access.door_event", event.kind)),
            "" if event.closed_at is None else timezone.localtime(event.closed_at).isoformat(timespec="seconds"),
            event.access_event_id or "",
            number,
        ]
