"""The one way to write to the audit trail, and the one way to delete from it (purge)."""

from datetime import datetime, timedelta

from django.db import connection, models, transaction
from django.utils import timezone

from justface.models import AuditEntry
from justface.request_context import current_request_id


def actor_kind_of(user) -> str:
    # An actor that is not a login says what it is (an integration key: "integration").
    own = getattr(user, "audit_actor_kind", None)
    if own:
        return own
    if user is None or not getattr(user, "is_authenticated", False):
        return AuditEntry.ActorKind.SYSTEM
    if user.is_superuser:
        return AuditEntry.ActorKind.PLATFORM
    if hasattr(user, "staff_role"):
        return AuditEntry.ActorKind.STAFF
    return AuditEntry.ActorKind.MEMBER


def record(
    *,
    action: str,
    actor=None,
    actor_kind: str | None = None,
    actor_id: int | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    chain_id: int | None = None,
    reason: str = "",
) -> AuditEntry:
    """Append one entry. `reason` must never carry personal data (no names, e-mails, terms
    typed into a search box): it is kept as long as the trail is."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        if chain_id is None:
            chain_id = getattr(obj, "chain_id", None)
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_id = actor_id if actor_id is not None else actor.pk
    return AuditEntry.objects.create(
        action=action,
        actor_kind=actor_kind or actor_kind_of(actor),
        actor_id=actor_id,
        object_type=object_type,
        object_id=str(object_id),
        chain_id=chain_id,
        reason=reason[:255],
        request_id=current_request_id(),
    )


def record_many(*, action: str, actor, objs, reason: str = "") -> None:
    """One entry per object in a single insert (exports of many rows)."""
    request_id = current_request_id()
    kind = actor_kind_of(actor)
    AuditEntry.objects.bulk_create(
        AuditEntry(
            action=action,
            actor_kind=kind,
            actor_id=getattr(actor, "pk", None),
            object_type=o._meta.label_lower,
            object_id=str(o.pk),
            chain_id=getattr(o, "chain_id", None),
            reason=reason[:255],
            request_id=request_id,
        )
        for o in objs
    )


def record_rows(*, actor, rows, chain_id: int | None) -> int:
    """Many entries of one actor in a single insert, each its own (action, object, reason): a
    bulk write of members. `rows`: (action, object_type, object_id, reason) tuples."""
    request_id = current_request_id()
    kind = actor_kind_of(actor)
    actor_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    entries = [
        AuditEntry(
            action=action,
            actor_kind=kind,
            actor_id=actor_id,
            object_type=object_type,
            object_id=str(object_id),
            chain_id=chain_id,
            reason=reason[:255],
            request_id=request_id,
        )
        for action, object_type, object_id, reason in rows
    ]
    AuditEntry.objects.bulk_create(entries, batch_size=2000)
    return len(entries)


# The trigger (justface migration 0004) lets a DELETE through only while this transaction-local
# setting is on, and only for entries older than a year.
PURGE_SETTING = "justface.audit_purge"
MIN_AGE = timedelta(days=365)


def purge(*, chain_id: int | None, before: datetime) -> int:
    """Delete the chain's entries (chain_id None: entries of no chain) written before `before`:
    the retention job's, once the chain's audit_retention_days are over. Every other UPDATE or
    DELETE is still refused by the model and, on PostgreSQL, by the trigger. Writes one entry
    saying how many went."""
    if before > timezone.now() - MIN_AGE:
        raise ValueError("Audit entries are kept at least a year.")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL {PURGE_SETTING} = 'on'")
        try:
            # models.QuerySet.delete: past AuditQuerySet's guard, which refuses every other caller.
            deleted = models.QuerySet.delete(AuditEntry.objects.filter(chain_id=chain_id, at__lt=before))[0]
        finally:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # Off again at once: an outer transaction must not keep the door open.
                    cursor.execute(f"SET LOCAL {PURGE_SETTING} = 'off'")
        if deleted:
            record(action="audit.purge", chain_id=chain_id, reason=f"{deleted} entries before {before:%Y-%m-%d}")
    return deleted
