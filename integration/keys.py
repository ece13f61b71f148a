"""Integration keys: issued by a chain's manager (the admin) or the operator (the command line),
shown once, stored as a SHA-256; revoked at once; every use audited by the key's id."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from integration.models import IntegrationKey, Scope
from justface import audit
from justface.tokens import token_hash
from members.models import Chain

PREFIX = "jfi_"  # tells an integration key from a device or agent token at a glance (and to secret scanners)
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per key


def clean_scopes(scopes) -> list[str]:
    chosen = sorted({s.strip() for s in scopes if s.strip()})
    unknown = [s for s in chosen if s not in Scope.values]
    if unknown or not chosen:
        raise ValidationError(
            _("Choose scopes among: %(scopes)s.") % {"scopes": ", ".join(Scope.values)}, code="scopes"
        )
    return chosen


def issue_key(*, chain: Chain, scopes, label: str = "", actor) -> tuple[IntegrationKey, str]:
    """A new key of the chain: returns the row and the secret, which is never stored or shown again."""
    raw = PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        key = IntegrationKey.objects.create(
            chain=chain,
            label=label.strip()[:100],
            prefix=raw[:12],
            key_hash=token_hash(raw),
            scopes=clean_scopes(scopes),
            created_by=actor if getattr(actor, "pk", None) and not hasattr(actor, "audit_actor_kind") else None,
        )
        audit.record(action="integration_key.issue", actor=actor, obj=key, reason=", ".join(key.scopes))
    return key, raw


def revoke_key(*, key: IntegrationKey, actor) -> bool:
    """Refused from the next request on; False if it was already revoked."""
    with transaction.atomic():
        if not IntegrationKey.objects.filter(pk=key.pk, revoked_at=None).update(revoked_at=timezone.now()):
            return False
        key.refresh_from_db()
        audit.record(action="integration_key.revoke", actor=actor, obj=key)
    return True


def key_for(raw: str) -> IntegrationKey | None:
    """The key behind a secret (revoked ones too: the caller says which it is)."""
    if not raw or len(raw) > 200:
        return None
    return IntegrationKey.objects.select_related("chain").filter(key_hash=token_hash(raw)).first()


def touch(key: IntegrationKey) -> None:
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        IntegrationKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


def record_use(*, key: IntegrationKey, what: str, status: int) -> None:
    """One audit entry per request, by the key's id (never its secret)."""
    audit.record(action="integration_key.use", actor=key, obj=key, reason=f"{what}; {status}")
