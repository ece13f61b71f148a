"""Idempotency-Key for bulk requests: the first request with a key is carried out and its answer
kept (per chain, JUSTFACE_INTEGRATION_IDEMPOTENCY_HOURS); a retry with the same key and the same
body gets that answer again and writes nothing; the same key with another body is refused."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from integration import conf
from integration.models import IdempotentRequest
from members.models import Chain

MAX_KEY = 200
# A claim with no answer after this long belongs to a request that died (gunicorn's timeout is 60 s);
# its write was one transaction, rolled back with it, so a retry may carry the request out afresh.
ABANDONED_AFTER = timedelta(minutes=5)


@dataclass
class Claim:
    row: IdempotentRequest | None = None  # ours to fill in
    replay: IdempotentRequest | None = None  # an earlier answer to send again
    problem: str = ""  # why neither
    status: int = 0


def body_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def claim(*, chain: Chain, key: str, request_hash: str) -> Claim:
    """Take the key for this request, in its own transaction (so a concurrent retry sees it)."""
    if not key.strip() or len(key) > MAX_KEY or not key.isprintable():
        return Claim(problem=f"Idempotency-Key must be 1 to {MAX_KEY} printable characters.", status=400)
    now = timezone.now()
    IdempotentRequest.objects.filter(chain=chain, key=key, expires_at__lt=now).delete()
    try:
        with transaction.atomic():
            row = IdempotentRequest.objects.create(
                chain=chain,
                key=key,
                request_hash=request_hash,
                expires_at=now + timedelta(hours=conf.idempotency_hours()),
            )
        return Claim(row=row)
    except IntegrityError:
        pass
    earlier = IdempotentRequest.objects.filter(chain=chain, key=key).first()
    if earlier is None:  # expired and deleted in between: the caller may simply send it again
        return Claim(problem="This Idempotency-Key is being reused right now; try again.", status=409)
    if earlier.request_hash != request_hash:
        return Claim(problem="This Idempotency-Key was used with another body.", status=422)
    if earlier.status is None:
        taken = IdempotentRequest.objects.filter(
            pk=earlier.pk, status=None, created_at__lt=now - ABANDONED_AFTER, created_at=earlier.created_at
        ).update(created_at=now)
        if taken:
            earlier.created_at = now
            return Claim(row=earlier)
        return Claim(problem="A request with this Idempotency-Key is still under way; try again shortly.", status=409)
    return Claim(replay=earlier)


def store(row: IdempotentRequest, *, status: int, response: dict) -> None:
    IdempotentRequest.objects.filter(pk=row.pk).update(status=status, response=response)


def release(row: IdempotentRequest) -> None:
    """The request failed before answering: a retry may carry it out."""
    IdempotentRequest.objects.filter(pk=row.pk, status=None).delete()
