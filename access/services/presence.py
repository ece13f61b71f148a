"""Who is inside: a granted check-in opens a visit, a check-out closes it; and a member's
erasure from the door's records (events anonymised, visits and scans deleted)."""

from __future__ import annotations

from datetime import datetime

from access.models import AccessEvent, Scan, Visit
from access.services.frames import drop_frames
from access.services.lockouts import forget_member_number
from members.models import Member


def record_presence(scan: Scan, now: datetime, visit_ends: datetime | None) -> None:
    """A check-in opens a visit, a check-out closes it. Either way the member's earlier open
    visits end now and their door photos go: a member is inside one centre at a time."""
    member = scan.member
    earlier = list(
        Visit.objects.select_for_update()
        .filter(member=member, checked_out_at=None, ends_at__gt=now)
        .values_list("pk", flat=True)
    )
    if earlier:
        drop_frames(Scan.objects.filter(visit__in=earlier))
        Visit.objects.filter(pk__in=earlier).update(checked_out_at=now)
    if scan.direction == "in":
        Visit.objects.create(
            member=member, centre_id=scan.centre_id, check_in_scan=scan, checked_in_at=now, ends_at=visit_ends
        )


def erase_member_access_data(*, member: Member) -> dict[str, int]:
    """Erasure of a member (access's entry in the personal-data registry): check-ins stay as
    anonymous counts (the access event without the member), visits and scans go (their door
    photos went with the biometric erasure before), and the member number leaves the PIN
    lockouts and the PIN entries not yet purged."""
    anonymised = AccessEvent.objects.filter(member=member).update(member=None)
    visits = Visit.objects.filter(member=member).delete()[1].get("access.Visit", 0)
    scans = Scan.objects.filter(member=member).delete()[1].get("access.Scan", 0)
    lockouts = forget_member_number(chain_id=member.chain_id, member_number_hash=member.member_number_hash)
    return {
        "check_ins_anonymised": anonymised,
        "visits_deleted": visits,
        "scans_deleted": scans,
        "pin_lockouts_deleted": lockouts,
    }
