"""Reads about consent that the door, the gallery and the portal all need."""
from __future__ import annotations

from django.utils import timezone

from consent.models import ConsentDocument, ConsentRecord
from members.models import Member


def biometric_consent_active(member: Member) -> bool:
    """Valid explicit consent to face scan right now: the latest biometric signature is not
    withdrawn, no newer published version demands re-consent, and for a minor a guardian has
    confirmed it."""
    records = ConsentRecord.objects.filter(member=member, document__kind=ConsentDocument.Kind.BIOMETRIC)
    latest = records.filter(action__in=[ConsentRecord.Action.SIGN, ConsentRecord.Action.WITHDRAW]).order_by("-at", "-id").first()
    if latest is None or latest.action == ConsentRecord.Action.WITHDRAW:
        return False
    document = latest.document
    reconsent_needed = ConsentDocument.objects.filter(
        chain_id=document.chain_id, kind=document.kind, language=document.language,
        version__gt=document.version, requires_reconsent=True, published_at__isnull=False,
    ).exists()
    if reconsent_needed:
        return False
    age = member.age_on(timezone.localdate())
    if age is not None and age < member.chain.policy.minor_age:
        return records.filter(action=ConsentRecord.Action.GUARDIAN_CONFIRM, at__gte=latest.at).exists()
    return True
