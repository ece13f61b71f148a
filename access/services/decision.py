"""A scan from its opening to its one decision: open_scan inserts it (idempotent per tablet
key), `decide` records the verdict once (scan, access event, visit, door photo, hourly counts
and the door agent's open command in one transaction), and `entry_refusal` says why an
identified member may not pass (the door's rules)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from access import door_agents, entry_lock, rules, stats
from access import liveness as door_liveness
from access.messages import Reason
from access.models import AccessEvent, DeviceToken, Scan
from access.services.devices import device_supports
from access.services.frames import frame_deadline
from access.services.presence import record_presence
from access.services.verdicts import ALL_FEATURES, Verdict, reloaded
from justface import metrics, private_files
from members.models import Member
from members.selectors import exclusion_in_force


def open_scan(
    *,
    device: DeviceToken,
    method: str,
    direction: str,
    idempotency_key: str = "",
    member_number_hash: str = "",
    supports: Iterable[str] | None = None,
    faces: int | None = None,
) -> tuple[Scan, bool]:
    """A new pending scan, committed at once so that a retry finds it; or, with a known
    idempotency key, the scan that key already names (created is then False). Inserting first
    costs a first request no look-up; the unique constraint catches retries, racing or not.
    `supports`: what the tablet declared with this request (None: what its last heartbeat said)."""
    features = device_supports(device) if supports is None else frozenset(supports) & ALL_FEATURES
    try:
        with transaction.atomic():
            scan = Scan.objects.create(
                device=device,
                door=device.door,
                centre=device.door.centre,
                method=method,
                direction=direction,
                idempotency_key=idempotency_key,
                member_number_hash=member_number_hash,
                client_supports=",".join(sorted(features)),
                faces=faces,  # the tablet's own count, if it sent one
            )
    except IntegrityError:
        if not idempotency_key:
            raise
        return Scan.objects.select_related("centre__chain", "member").get(
            device=device, idempotency_key=idempotency_key
        ), False
    return scan, True


def entry_refusal(member: Member, scan: Scan, now: datetime) -> Reason | None:
    """Why an identified member may not pass (None: they may). Leaving is never refused."""
    if scan.direction == "out":
        return None
    if not rules.membership_running(member, now, scan.centre):
        return Reason.MEMBERSHIP_INACTIVE
    if exclusion_in_force(member, on=rules.local(scan.centre, now).date()):
        return Reason.EXCLUDED
    return rules.member_refusal(member, scan.door, scan.method, now)  # the door's own rules


@entry_lock.serialised  # rules counting earlier entries are checked again under the member's lock
def decide(
    scan: Scan, verdict: Verdict, *, frame: bytes | None = None, liveness: door_liveness.LivenessCheck | None = None
) -> Scan:
    """Record the decision once: scan, access event and visit in one transaction. If the scan
    was decided meanwhile (expired by a sweeper), that decision stands and is returned."""
    now = timezone.now()
    policy = scan.centre.chain.policy  # parsed once per decision
    visit_ends = rules.visit_end(scan.centre, policy, now) if verdict.granted and scan.direction == "in" else None
    # A grey-zone scan already holds its frame (kept while it waited for the PIN); no other scan
    # has one before its decision.
    held = scan.frame_file
    keep_until = frame_deadline(policy, verdict, visit_ends, now) if frame or held else None
    photo = (held or private_files.save("door_photo", frame)) if keep_until else ""
    fields = {
        "status": verdict.status,
        "reason": verdict.reason.value,
        "member": verdict.member,
        "decided_at": now,
        "frame_file": photo,
        "frame_expires_at": keep_until,
        "method": scan.method,
        "faces": scan.faces,
    }
    try:
        with transaction.atomic():
            if (
                Scan.objects.filter(pk=scan.pk, status__in=[Scan.Status.PENDING, Scan.Status.CONFIRM]).update(**fields)
                != 1
            ):
                if photo != held:
                    private_files.delete(photo)
                return reloaded(scan)
            if held and not photo:
                private_files.delete_on_commit([held])
            for name, value in fields.items():
                setattr(scan, name, value)
            event = AccessEvent.objects.create(
                centre_id=scan.centre_id,
                door_id=scan.door_id,
                member=verdict.member,
                scan=scan,
                method=scan.method,
                direction=scan.direction,
                decision=scan.status,
                reason=(verdict.recorded or verdict.reason).value,
                score=verdict.score,
                margin=verdict.margin,
                **(liveness.record() if liveness else {}),
                flag=rules.entry_flag(scan.door, verdict.member, scan.direction, now) if verdict.granted else "",
                faces=scan.faces,
            )
            if verdict.granted:
                record_presence(scan, now, visit_ends)
            stats.count_event(event)  # the anonymous hourly counts, in the event's transaction
            if scan.status == Scan.Status.GRANTED:
                door_agents.queue_open(event=event, scan=scan)  # signed, for this door's agent only
    except BaseException:
        if photo != held:
            private_files.delete(photo)  # nothing half-written: no frame without its row
        raise
    metrics.door_decided(scan=scan, reason=event.reason, liveness=liveness)
    return scan
