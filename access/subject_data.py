"""Check-ins held about a member, for the member's access page and export (members.subject_data)."""
from django.utils.translation import gettext_lazy as _

from access.models import AccessEvent
from members.models import Member
from members.subject_data import Category, days_after_end, provider


@provider("checkins", order=50)
def checkins(member: Member) -> Category:
    events = AccessEvent.objects.filter(member=member).select_related("centre", "door").order_by("at")
    return Category(
        key="checkins", title=_("Your check-ins"),
        purpose=_("Access control and support; counted without names in statistics for the centre."),
        legal_basis=_("Contract (GDPR Art. 6(1)(b)); statistics: legitimate interest (Art. 6(1)(f))."),
        retention=days_after_end(member.chain.policy.checkins_retention_days),
        data=[{"at": e.at.isoformat(), "centre": e.centre.name, "door": e.door.name if e.door else None,
               "method": e.method, "direction": e.direction, "decision": e.decision, "reason": e.reason} for e in events],
        labels={"at": _("When"), "centre": _("Centre"), "door": _("Door"), "method": _("How"), "direction": _("In or out"),
                "decision": _("Result"), "reason": _("Reason")},
    )
