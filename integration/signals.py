"""What fills the feeds: every saved member marks the member feed; access events, door alarms,
consent given or withdrawn and erasures each add one FeedEvent row (ids and codes only) in the
writer's own transaction, an insert that waits for nothing.

Each event's `data` is built here once and serves both the feed and the webhooks: the same row
is logged for the chain's subscribed webhook endpoints (webhooks.services.emit, an insert in the
same transaction; the sending happens in the worker after the commit). `event_recorded` is sent
once the writer's transaction commits, with the FeedEvent row."""

from __future__ import annotations

import django.dispatch
from django.db import transaction
from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from access.models import AccessEvent, DoorEvent
from consent.models import ConsentRecord
from integration import feed
from integration.models import FeedEvent
from justface.models import AuditEntry
from members.models import Member
from webhooks.services import emit

event_recorded = django.dispatch.Signal()  # sender=FeedEvent, event=<FeedEvent>

Kind = FeedEvent.Kind


def record(*, chain_id: int, kind: str, occurred_at, member: Member | None = None, **data) -> FeedEvent:
    if member is not None:
        data = {"member_id": member.pk, "external_id": member.member_number, **data}
    event = FeedEvent.objects.create(
        chain_id=chain_id, kind=kind, occurred_at=occurred_at, member_id=data.get("member_id"), data=data
    )
    # The delivery names the member (to erase its body with them) only while they exist.
    emit(
        chain_id=chain_id,
        event_type=kind,
        data=feed.event_data(occurred_at=occurred_at, data=data),
        member_id=member.pk if member is not None else None,
    )
    transaction.on_commit(lambda: event_recorded.send(sender=FeedEvent, event=event))
    return event


@receiver(post_save, sender=Member, dispatch_uid="integration.member_saved")
def member_saved(sender, instance: Member, raw=False, **kwargs):
    if not raw:
        feed.mark_members_changed(chain_id=instance.chain_id, member_ids=[instance.pk])


@receiver(post_save, sender=AccessEvent, dispatch_uid="integration.access_event")
def access_event_saved(sender, instance: AccessEvent, created=False, raw=False, **kwargs):
    if not created or raw:
        return
    if instance.decision == AccessEvent.Decision.GRANTED:
        kind = Kind.CHECK_OUT if instance.direction == AccessEvent.Direction.OUT else Kind.CHECK_IN
    else:
        kind = Kind.REFUSED
    centre = instance.centre
    record(
        chain_id=centre.chain_id,
        kind=kind,
        occurred_at=instance.at,
        member=instance.member if instance.member_id else None,
        access_event_id=instance.pk,
        centre=centre.slug,
        door_id=instance.door_id,
        method=instance.method,
        direction=instance.direction,
        decision=instance.decision,
        reason=instance.reason,
    )


@receiver(post_save, sender=DoorEvent, dispatch_uid="integration.door_event")
def door_event_saved(sender, instance: DoorEvent, created=False, raw=False, **kwargs):
    if not created or raw or instance.kind not in DoorEvent.ALARMS:
        return
    centre = instance.door.centre
    record(
        chain_id=centre.chain_id,
        kind=Kind.DOOR_ALARM,
        occurred_at=instance.at,
        door_event_id=instance.pk,
        centre=centre.slug,
        door_id=instance.door_id,
        alarm=instance.kind,
    )


@receiver(post_save, sender=ConsentRecord, dispatch_uid="integration.consent_record")
def consent_saved(sender, instance: ConsentRecord, created=False, raw=False, **kwargs):
    kinds = {
        ConsentRecord.Action.SIGN: Kind.CONSENT_GIVEN,
        ConsentRecord.Action.GUARDIAN_CONFIRM: Kind.CONSENT_GIVEN,  # a minor's consent takes effect
        ConsentRecord.Action.WITHDRAW: Kind.CONSENT_WITHDRAWN,
    }
    if not created or raw or instance.action not in kinds:
        return
    member = instance.member
    record(
        chain_id=member.chain_id,
        kind=kinds[instance.action],
        occurred_at=instance.at,
        member=member,
        consent_record_id=instance.pk,
        action=instance.action,
        document=instance.document.kind,
        version=instance.document.version,
        channel=instance.channel,
    )


@receiver(post_save, sender=AuditEntry, dispatch_uid="integration.face_erased")
def face_erased(sender, instance: AuditEntry, created=False, raw=False, **kwargs):
    """Every erasure of a member's templates and photos writes `face.erase` (members.faces)."""
    if not created or raw or instance.action != "face.erase" or instance.object_type != "members.member":
        return
    member = Member.objects.filter(pk=instance.object_id).only("pk", "chain_id", "member_number").first()
    if member is not None:
        record(chain_id=member.chain_id, kind=Kind.FACE_ERASED, occurred_at=instance.at, member=member)


@receiver(pre_delete, sender=Member, dispatch_uid="integration.member_erased")
def member_erased(sender, instance: Member, **kwargs):
    """A member row goes only by erasure (retention.services.erase_member). The event names the
    member by Justface's id only: the member number goes with the member (the chain's system
    knows the id from every write's answer and from the member feed)."""
    from django.utils import timezone

    record(
        chain_id=instance.chain_id,
        kind=Kind.MEMBER_ERASED,
        occurred_at=timezone.now(),
        member_id=instance.pk,
    )
