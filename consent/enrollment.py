"""Enrolling a member's face: only with active explicit consent, only through the engine's gate."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from consent.selectors import biometric_consent_active
from justface import private_files
from justface.face.liveness import DEFAULT_REFERENCE, THRESHOLD
from justface.face_messages import enrollment_message
from justface.face_runtime import get_engine
from members.faces import move_template, store_face_template
from members.models import FaceTemplate, Liveness, Member

# Photos larger than this are refused before they reach the face engine (portal and API).
MAX_PHOTO_BYTES = 8 * 1024 * 1024


def passive_threshold() -> float:
    value = getattr(settings, "FACE_LIVENESS_THRESHOLD", None)
    return THRESHOLD if value is None else value


@dataclass(frozen=True)
class EnrollmentOutcome:
    ok: bool
    reason: str  # "ok" or the engine's / consent's reason code
    message: str  # for the member, in the active language


def enroll_face(*, member: Member, image: bytes, actor) -> EnrollmentOutcome:
    if not biometric_consent_active(member):
        return EnrollmentOutcome(False, "no_consent", enrollment_message("no_consent"))
    engine = get_engine()
    result = engine.analyse_enrollment(image, liveness_threshold=enrollment_liveness_threshold(member))
    if not result.ok:
        # not_live: a photo of a photo or of a screen; no template is made of it (issue #17).
        return EnrollmentOutcome(False, result.reason, enrollment_message(result.reason))
    store_face_template(
        member=member,
        template=result.template,
        model_name=engine.model,
        photo=image,
        actor=actor,
        enrolled_live=enrolled_clearly_live(result.cues),
    )
    return EnrollmentOutcome(True, "ok", "")


def enrolled_clearly_live(cues) -> bool:
    """Whether an accepted enrollment photo is clearly live (issue #27). A photo comes from a
    camera no door has learned (a member's phone, the desk's webcam), so it meets the cautious
    default reference, as a new door does; one that does not is enrolled, and the member's next
    face entry asks for the head-turn challenge (access.liveness), which a print cannot answer."""
    return cues is None or DEFAULT_REFERENCE.clearly_live(cues)


def enrollment_liveness_threshold(member: Member) -> float | None:
    """Every enrollment photo passes the passive liveness check, unless the member's home centre
    has liveness switched off (then enrollment is exactly as before)."""
    if member.home_centre.liveness == Liveness.OFF:
        return None
    return passive_threshold()


@dataclass(frozen=True)
class ReenrollmentOutcome:
    moved: int  # kept photos that now carry an active-model template
    refused: int  # photos the active model's gate refused (the member is asked for a new one)


def reenroll_member(*, member: Member, actor) -> ReenrollmentOutcome:
    """Move a member's kept enrollment photos to the active model: each photo still held by a
    template of another model gets an active-model template, and the photo passes to it.
    Only with valid biometric consent. Idempotent: a photo already moved is not held by the old
    template any more, so a second run (or a resumed one) finds nothing to do."""
    if not biometric_consent_active(member):
        return ReenrollmentOutcome(0, 0)
    engine = get_engine()
    moved = refused = 0
    for source in pending_reenrollment(member_id=member.pk, model=engine.model):
        result = engine.analyse_enrollment(private_files.read(source.photo_file))
        if not result.ok:
            refused += 1
            continue
        move_template(source=source, template=result.template, model_name=engine.model, actor=actor)
        moved += 1
    return ReenrollmentOutcome(moved, refused)


def pending_reenrollment(*, model: str, member_id: int | None = None, chain_id: int | None = None):
    """Templates of other models that still hold a kept photo: the work of a move to ``model``."""
    rows = (
        FaceTemplate.objects.exclude(model_name=model).exclude(photo_file="").order_by("member_id", "created_at", "pk")
    )
    if member_id is not None:
        rows = rows.filter(member_id=member_id)
    if chain_id is not None:
        rows = rows.filter(member__chain_id=chain_id)
    return rows
