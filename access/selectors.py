"""Reads the door API, the admin, the commands and the retention job share."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from access.models import DeviceToken, Scan, Visit
from access.rules import door_open
from justface.tenancy import Scope
from justface.tokens import token_hash
from members.models import Centre

# Tablets poll for a pending decision this often (ms); told to them in the heartbeat.
POLL_INTERVAL_MS = 250


# Device tokens are 256 random bits, hashed like one-time links: a plain SHA-256 cannot be
# reversed, and unlike a keyed hash it survives a change of FIELD_HASH_KEY.
hash_device_token = token_hash


def device_for_token(raw: str) -> DeviceToken | None:
    """The token's row (revoked or not), with its door, centre and chain in the same query."""
    return DeviceToken.objects.select_related("door__centre__chain").filter(token_hash=hash_device_token(raw)).first()


def open_visits(*, at: datetime | None = None) -> QuerySet[Visit]:
    return Visit.objects.filter(checked_out_at=None, ends_at__gt=at or timezone.now())


def occupancy(scope: Scope) -> list[dict]:
    """Members inside each centre the scope may see, right now."""
    counts = dict(
        scope.filter(open_visits())
        .values("centre")
        .annotate(n=Count("member", distinct=True))
        .values_list("centre", "n")
    )
    return [{"centre": c, "inside": counts.get(c.pk, 0)} for c in scope.filter(Centre.objects.select_related("chain"))]


def frames_due(*, at: datetime) -> QuerySet[Scan]:
    """Scans whose kept frame (door photo or denied frame kept for support) must go now."""
    return Scan.objects.exclude(frame_file="").filter(frame_expires_at__lte=at)


def door_configuration(device: DeviceToken) -> dict:
    centre = device.door.centre
    return {
        "door": device.door.name,
        "centre": centre.name,
        "language": centre.door_language,
        "languages": ["da", "nb", "en"],
        "time_zone": centre.time_zone,
        # The door's own hours where it has them, else the centre's.
        "opening_hours": device.door.opening_hours or centre.opening_hours,
        "open_now": door_open(device.door, centre, timezone.now()),
        "poll_interval_ms": POLL_INTERVAL_MS,
    }


# Failed liveness checks at one door within one clock hour from which the admin flags the door:
# a member who fails now and then does not reach it; someone trying prints or phones does.
LIVENESS_BURST = 5


def liveness_failures(events: QuerySet, *, since: datetime) -> list[dict]:
    """Failed liveness checks per door and hour (newest first) among ``events`` (an already
    scoped queryset of access events): door, centre, hour, count, which layer, and whether it
    is a burst (``LIVENESS_BURST`` or more)."""
    rows = (
        events.filter(reason="liveness_failed", at__gte=since)
        .annotate(hour=TruncHour("at"))
        .values("door_id", "door__name", "centre__name", "hour", "liveness_layer")
        .annotate(n=Count("id"))
        .order_by("-hour", "centre__name", "door__name")
    )
    merged: dict[tuple, dict] = {}
    for row in rows:
        key = (row["door_id"], row["hour"])
        entry = merged.setdefault(
            key,
            {
                "door": row["door__name"] or "(door removed)",
                "centre": row["centre__name"],
                "hour": row["hour"],
                "failures": 0,
                "passive": 0,
                "challenge": 0,
            },
        )
        entry["failures"] += row["n"]
        if row["liveness_layer"] in ("passive", "challenge"):
            entry[row["liveness_layer"]] += row["n"]
    out = list(merged.values())
    for entry in out:
        entry["burst"] = entry["failures"] >= LIVENESS_BURST
    return out


def liveness_bursts(events: QuerySet, *, at: datetime | None = None, hours: int = 24) -> list[dict]:
    """The bursts of the last ``hours`` hours (someone may be trying prints or screens)."""
    at = at or timezone.now()
    return [row for row in liveness_failures(events, since=at - timedelta(hours=hours)) if row["burst"]]
