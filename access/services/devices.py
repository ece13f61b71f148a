"""Doors and their tablets: the tablets' tokens (issued once, stored hashed, revoked at once)
and what a tablet tells the server about itself (last seen, heartbeat, declared features)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from access.models import DeviceToken, Door
from access.services.verdicts import ALL_FEATURES
from justface import audit
from justface.tokens import new_token
from members.models import Centre

# last_seen_at is for staff ("is the tablet alive?"), not an audit: one write a minute is plenty.
LAST_SEEN_EVERY = timedelta(seconds=60)


def ensure_door(*, centre: Centre, name: str, actor) -> Door:
    door, created = Door.objects.get_or_create(centre=centre, name=name)
    if created:
        audit.record(action="door.add", actor=actor, obj=door, chain_id=centre.chain_id)
    return door


def issue_device_token(*, door: Door, label: str = "", actor) -> tuple[DeviceToken, str]:
    """A new token for the door's tablet. The raw token is returned once and stored nowhere."""
    raw, hashed = new_token()
    token = DeviceToken.objects.create(door=door, label=label, token_hash=hashed)
    audit.record(action="door.token_issue", actor=actor, obj=token, chain_id=door.centre.chain_id)
    return token, raw


def revoke_device_token(*, token: DeviceToken, actor) -> bool:
    """Revoke at once: the next request with the token is refused. False if already revoked."""
    revoked = DeviceToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now()) == 1
    if revoked:
        audit.record(action="door.token_revoke", actor=actor, obj=token, chain_id=token.door.centre.chain_id)
    return revoked


def touch_device(device: DeviceToken, *, at: datetime) -> None:
    if device.last_seen_at is None or at - device.last_seen_at >= LAST_SEEN_EVERY:
        DeviceToken.objects.filter(pk=device.pk).update(last_seen_at=at)
        device.last_seen_at = at


def record_heartbeat(*, device: DeviceToken, status: dict) -> None:
    """The tablet's status, replacing the last one: what it declares it supports (`supports`)
    holds until its next heartbeat; a heartbeat without it declares nothing."""
    device.last_seen_at, device.last_status = timezone.now(), status
    DeviceToken.objects.filter(pk=device.pk).update(last_seen_at=device.last_seen_at, last_status=status)


def device_supports(device: DeviceToken) -> frozenset[str]:
    """The features the tablet declared in its last heartbeat (none before its first)."""
    status = device.last_status if isinstance(device.last_status, dict) else {}
    declared = status.get("supports") or []
    return frozenset(str(f) for f in declared if isinstance(f, str)) & ALL_FEATURES
