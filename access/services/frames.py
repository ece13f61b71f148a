"""Door photos: how long a decided scan's frame may be kept, and every way one goes (its
deadline, the member's check-out or erasure) together with old scans' rows."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet

from access.messages import Reason
from access.models import Scan
from access.services.verdicts import Verdict
from justface import private_files
from members.models import Member
from members.policy import ChainPolicy


def frame_deadline(
    policy: ChainPolicy, verdict: Verdict, visit_ends: datetime | None, now: datetime
) -> datetime | None:
    """Until when the frame may be kept; None: not at all."""
    if verdict.reason is Reason.GOODBYE:
        return None  # a neutral check-out refused nobody and names no one: nothing to keep it for
    if verdict.granted:
        return visit_ends if policy.door_photo_max_hours else None
    return now + timedelta(hours=policy.denied_frame_hours) if policy.denied_frame_hours else None


def drop_frames(scans: QuerySet[Scan]) -> int:
    """Forget the scans' kept frames; the files are deleted once the transaction commits."""
    kept = dict(scans.exclude(frame_file="").select_for_update().values_list("pk", "frame_file"))
    Scan.objects.filter(pk__in=kept).update(frame_file="", frame_expires_at=None)
    names = list(kept.values())
    private_files.delete_on_commit(names)
    return len(names)


def drop_frame(*, scan_id) -> bool:
    """Delete one scan's kept frame (the retention job, when its time is up)."""
    with transaction.atomic():
        return drop_frames(Scan.objects.filter(pk=scan_id)) == 1


def erase_door_photos(*, member: Member) -> int:
    """Every kept frame of the member, at once (biometric erasure: withdrawal, end, request)."""
    with transaction.atomic():
        return drop_frames(Scan.objects.filter(member=member))


def purge_old_scans(*, before: datetime) -> int:
    """Decided scans are working data (polling, retries, PIN counting); their access events
    stay. A scan still holding a frame waits for the frame's deadline."""
    old = Scan.objects.filter(created_at__lt=before, frame_file="").exclude(status=Scan.Status.PENDING)
    return old.delete()[1].get("access.Scan", 0)
