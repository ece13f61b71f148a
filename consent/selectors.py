"""Reads about consent that the door, the gallery and the portal all need."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from consent.models import ConsentDocument, ConsentRecord
from members.models import Chain, FaceTemplate, Member

Kind = ConsentDocument.Kind
STANDING = (ConsentRecord.Action.SIGN, ConsentRecord.Action.WITHDRAW)


def latest_signature(member: Member, kind: str) -> ConsentRecord | None:
    """The member's standing signature of this kind: the newest signature unless a withdrawal came after it."""
    latest = (
        ConsentRecord.objects.filter(member=member, document__kind=kind, action__in=STANDING)
        .select_related("document")
        .order_by("-at", "-id")
        .first()
    )
    return latest if latest is not None and latest.action == ConsentRecord.Action.SIGN else None


def reconsent_needed(signature: ConsentRecord) -> bool:
    """A newer published version of the signed document asks everyone to sign again."""
    document = signature.document
    return ConsentDocument.objects.filter(
        chain_id=document.chain_id,
        kind=document.kind,
        language=document.language,
        version__gt=document.version,
        requires_reconsent=True,
        published_at__isnull=False,
    ).exists()


def is_minor(member: Member) -> bool:
    age = member.age_on(timezone.localdate())
    return age is not None and age < member.chain.policy.minor_age


def guardian_confirmed(signature: ConsentRecord) -> bool:
    return ConsentRecord.objects.filter(
        member_id=signature.member_id,
        action=ConsentRecord.Action.GUARDIAN_CONFIRM,
        document__kind=signature.document.kind,
        at__gte=signature.at,
    ).exists()


def _standing(member: Member, kind: str) -> tuple[ConsentRecord | None, bool, bool]:
    """The latest signature of a kind (None: none, or withdrawn), whether a newer published
    version demands re-consent, and whether a minor's face-scan consent still waits for the
    guardian. Active = signed, no re-consent due, not waiting."""
    signature = latest_signature(member, kind)
    renew = signature is not None and reconsent_needed(signature)
    awaiting = (
        signature is not None and kind == Kind.BIOMETRIC and is_minor(member) and not guardian_confirmed(signature)
    )
    return signature, renew, awaiting


def biometric_consent_active(member: Member) -> bool:
    """Valid explicit consent to face scan right now (see _standing)."""
    signature, renew, awaiting = _standing(member, Kind.BIOMETRIC)
    return signature is not None and not renew and not awaiting


def biometric_reconsent_pending(member: Member) -> bool:
    """The member consented to face scan, but a newer version requiring re-consent waits for their
    signature: face entry is paused until they sign it (the door says so; the PIN works)."""
    signature, renew, _awaiting = _standing(member, Kind.BIOMETRIC)
    return signature is not None and renew


def members_to_reconsent(document: ConsentDocument) -> QuerySet[Member]:
    """Members whose standing signature of the document's kind and language is of an older
    version (not withdrawn since): the ones a re-consent version asks to sign again."""
    latest = ConsentRecord.objects.filter(
        member=OuterRef("pk"), document__kind=document.kind, action__in=STANDING
    ).order_by("-at", "-id")
    return (
        Member.objects.filter(chain_id=document.chain_id)
        .annotate(
            last_action=Subquery(latest.values("action")[:1]),
            last_document=Subquery(latest.values("document__language")[:1]),
            last_version=Subquery(latest.values("document__version")[:1]),
        )
        .filter(
            last_action=ConsentRecord.Action.SIGN, last_document=document.language, last_version__lt=document.version
        )
    )


def reconsent_progress(document: ConsentDocument) -> tuple[int, int]:
    """(signed, asked) for staff: how far a re-consent has come. signed: members who have signed
    this version; asked: those plus the members still standing on an older version."""
    signed = (
        ConsentRecord.objects.filter(document=document, action=ConsentRecord.Action.SIGN)
        .values("member_id")
        .distinct()
        .count()
    )
    return signed, signed + members_to_reconsent(document).count()


def current_document(chain: Chain, kind: str, language: str) -> ConsentDocument | None:
    """The newest published version of a kind, in the language asked for, else the chain's own
    language, else any language the chain has."""
    published = ConsentDocument.objects.filter(chain=chain, kind=kind, published_at__isnull=False).order_by(
        "-version", "-id"
    )
    for candidate in (language, chain.default_language):
        document = published.filter(language=candidate).first()
        if document is not None:
            return document
    return published.first()


def next_version(*, chain_id: int, kind: str, language: str) -> int:
    top = ConsentDocument.objects.filter(chain_id=chain_id, kind=kind, language=language).aggregate(v=Max("version"))[
        "v"
    ]
    return (top or 0) + 1


@dataclass(frozen=True)
class ConsentState:
    """Where a member stands on one kind of consent, for the portal and the API."""

    kind: str
    document: ConsentDocument | None  # what the member would sign now
    signature: ConsentRecord | None
    active: bool
    awaiting_guardian: bool
    reconsent_needed: bool

    @property
    def signed_current(self) -> bool:
        return (
            self.signature is not None and self.document is not None and self.signature.document_id == self.document.pk
        )


def consent_state(member: Member, kind: str, language: str) -> ConsentState:
    signature, renew, awaiting = _standing(member, kind)
    return ConsentState(
        kind=kind,
        document=current_document(member.chain, kind, language),
        signature=signature,
        active=signature is not None and not renew and not awaiting,
        awaiting_guardian=awaiting,
        reconsent_needed=renew,
    )


def consent_states(member: Member, language: str) -> list[ConsentState]:
    return [consent_state(member, kind, language) for kind in Kind.values]


def face_status(member: Member) -> FaceTemplate | None:
    """The member's newest template (any model): whether they are enrolled, and since when."""
    return FaceTemplate.objects.filter(member=member).order_by("-created_at", "-pk").first()


def needs_new_photo(member: Member) -> bool:
    """Enrolled, but with no template of the active model: the door recognises them only while the
    move from the previous model lasts, so the portal asks for a new photo."""
    templates = FaceTemplate.objects.filter(member=member)
    return templates.exists() and not templates.filter(model_name=settings.FACE_MODEL).exists()
