"""Check-ins held about a member, for the member's access page and export (members.subject_data)."""

from access.models import AccessEvent
from members.models import Member
from members.processing import activity
from members.subject_data import CHECKIN_TEXTS, Category, provider


@provider("checkins", order=50)
def checkins(member: Member) -> Category:
    events = AccessEvent.objects.filter(member=member).select_related("centre", "door").order_by("at")
    return Category(
        key="checkins",
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
                # A door rule's flag on the entry (issue #24: anti-passback), only where set.
                **({"flag": e.flag} if e.flag else {}),
            }
            for e in events
        ],
    )
