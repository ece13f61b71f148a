"""Check-ins held about a member, for the member's access page and export (registered with the
personal-data registry by access.personal_data)."""

from django.utils.translation import gettext_lazy as _

from access.models import AccessEvent
from justface.personal_data import Category, activity
from members.models import Member

CHECKIN_TEXTS = dict(
    title=_("Your check-ins"),
    labels={
        "at": _("When"),
        "centre": _("Centre"),
        "door": _("Door"),
        "method": _("How"),
        "direction": _("In or out"),
        "decision": _("Result"),
        "reason": _("Reason"),
        "flag": _("Noted for staff"),
    },
    codes={
        "method": "access.method",
        "direction": "access.direction",
        "decision": "access.decision",
        "reason": "access.reason",
        "flag": "access.flag",
    },
)


def checkins(member: Member) -> Category:
    events = AccessEvent.objects.filter(member=member).select_related("centre", "door").order_by("at")
    return Category(
        key="checkins",
        order=50,
        **activity("checkins").notice(member.chain.policy),
        **CHECKIN_TEXTS,
        data=[
            {
                "at": e.at.isoformat(),
                "centre": e.centre.name,
                "door": e.door.name if e.door else None,
                "method": e.method,
                "direction": e.direction,
                "decision": e.decision,
                "reason": e.reason,
                # A door rule's flag on the entry (anti-passback), only where set.
                **({"flag": e.flag} if e.flag else {}),
            }
            for e in events
        ],
    )
