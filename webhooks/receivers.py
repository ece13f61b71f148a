"""What becomes a webhook event: new access events, door alarms and consent records, each turned
into deliveries (webhooks.services.emit) in the writer's own transaction. A chain without an
endpoint for the type costs the writer one indexed query; with one, a few inserts; the sending
happens in the worker after the commit, never in the writer (the door's decision included).

Payloads hold ids, codes and the chain's own member id (`external_id`: the member number) only:
never names, templates, photos or scores. The member's erasure is emitted by the erasure itself
(webhooks.personal_data), while the member still exists."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from access.models import AccessEvent, DoorEvent
from consent.models import ConsentRecord
from members.models import Centre, Member
from webhooks import events
from webhooks.models import WebhookEndpoint
from webhooks.services import emit

DOOR_ALARMS = {
    DoorEvent.Kind.FORCED_OPEN: events.DOOR_FORCED_OPEN,
    DoorEvent.Kind.HELD_OPEN: events.DOOR_HELD_OPEN,
    DoorEvent.Kind.AGENT_OFFLINE: events.DOOR_AGENT_OFFLINE,
}
CONSENT = {
    ConsentRecord.Action.SIGN: events.CONSENT_GIVEN,
    ConsentRecord.Action.GUARDIAN_CONFIRM: events.CONSENT_GIVEN,
    ConsentRecord.Action.WITHDRAW: events.CONSENT_WITHDRAWN,
}


def member_ref(member: Member | None) -> dict:
    if member is None:
        return {"member_id": None, "external_id": None}
    return {"member_id": member.pk, "external_id": member.member_number or None}


def _stamp(at) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _subscribed_chain(centre_id: int, event_type: str) -> int | None:
    """The chain of the centre if one of its enabled endpoints takes the type (one query)."""
    for chain_id, types in WebhookEndpoint.objects.filter(chain__centres__id=centre_id, enabled=True).values_list(
        "chain_id", "event_types"
    ):
        if event_type in types:
            return chain_id
    return None


def access_event_type(event: AccessEvent) -> str:
    if event.decision != AccessEvent.Decision.GRANTED:
        return events.ACCESS_REFUSED
    return events.ACCESS_CHECK_OUT if event.direction == "out" else events.ACCESS_GRANTED


@receiver(post_save, sender=AccessEvent, dispatch_uid="webhooks.access_event")
def access_event_saved(sender, instance: AccessEvent, created=False, raw=False, **kwargs):
    if not created or raw:
        return
    event_type = access_event_type(instance)
    chain_id = _subscribed_chain(instance.centre_id, event_type)
    if chain_id is None:
        return
    member = instance.member if instance.member_id else None
    data = {
        **member_ref(member),
        "access_event_id": instance.pk,
        "at": _stamp(instance.at),
        "centre": Centre.objects.values_list("slug", flat=True).get(pk=instance.centre_id),
        "door_id": instance.door_id,
        "method": instance.method,
        "direction": instance.direction,
        "decision": instance.decision,
        "reason": instance.reason,
    }
    emit(chain_id=chain_id, event_type=event_type, data=data, member_id=instance.member_id)


@receiver(post_save, sender=DoorEvent, dispatch_uid="webhooks.door_event")
def door_event_saved(sender, instance: DoorEvent, created=False, raw=False, **kwargs):
    if not created or raw or instance.kind not in DOOR_ALARMS:
        return
    event_type = DOOR_ALARMS[instance.kind]
    door = instance.door
    chain_id = _subscribed_chain(door.centre_id, event_type)
    if chain_id is None:
        return
    data = {
        "door_event_id": instance.pk,
        "at": _stamp(instance.at),
        "centre": Centre.objects.values_list("slug", flat=True).get(pk=door.centre_id),
        "door_id": door.pk,
        "alarm": instance.kind,
    }
    emit(chain_id=chain_id, event_type=event_type, data=data)


@receiver(post_save, sender=ConsentRecord, dispatch_uid="webhooks.consent_record")
def consent_record_saved(sender, instance: ConsentRecord, created=False, raw=False, **kwargs):
    if not created or raw or instance.action not in CONSENT:
        return
    member = instance.member
    document = instance.document
    data = {
        **member_ref(member),
        "consent_record_id": instance.pk,
        "at": _stamp(instance.at),
        "action": instance.action,
        "document": document.kind,
        "version": document.version,
        "channel": instance.channel,
    }
    emit(chain_id=member.chain_id, event_type=CONSENT[instance.action], data=data, member_id=member.pk)
