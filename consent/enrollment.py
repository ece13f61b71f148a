"""Enrolling a member's face: only with active explicit consent, only through the engine's gate."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from consent.selectors import biometric_consent_active
from justface import audit, private_files
from justface.face.engine import FaceEngine, FaceResult, Reason
from justface.face.liveness import DEFAULT_REFERENCE, THRESHOLD
from justface.face_messages import enrollment_message
from justface.face_runtime import ENGINE_WAIT_SECONDS, engine_turn, get_engine
from members.faces import (
    PendingLimitReached,
    best_own_score,
    erase_pending_photo,
    hold_pending_photo,
    move_template,
    store_face_template,
)
from members.models import FaceTemplate, Liveness, Member, PendingFacePhoto

PENDING_REVIEW = "pending_review"
# More photos held for review in 24 hours than PENDING_FACE_PHOTOS_PER_DAY: refused (API: 429).
TOO_MANY_REVIEWS = "too_many_reviews"

# Photos larger than this are refused before they reach the face engine (portal and API).
MAX_PHOTO_BYTES = 8 * 1024 * 1024


def passive_threshold() -> float:
    value = getattr(settings, "FACE_LIVENESS_THRESHOLD", None)
    return THRESHOLD if value is None else value


@dataclass(frozen=True)
class EnrollmentOutcome:
    ok: bool
    reason: str  # "ok", "pending_review", or the engine's / consent's reason code
    message: str  # for the member, in the active language

    @property
    def pending_review(self) -> bool:
        """The photo is kept for staff to review: nothing changed in the member's templates."""
        return self.reason == PENDING_REVIEW


def enroll_face(
    *, member: Member, image: bytes, actor, channel: str = PendingFacePhoto.Channel.PORTAL
) -> EnrollmentOutcome:
    """Enroll a photo of the member's face. A member who never had a face enrolled is enrolled
    at once (first enrollment). A member who has templates: the photo must be the same person
    (replacement_score reaches the model's 1:1 threshold), else it is kept for staff to review
    (``pending_review``) and the templates stay as they were (a member enrolling
    someone else's face to share the membership). A member who deleted their face data or
    withdrew face consent (Member.face_erased_on) has nothing to compare with: staff review
    the photo. At most PENDING_FACE_PHOTOS_PER_DAY photos a member are held in 24 hours; past
    that, ``too_many_reviews`` and nothing is kept."""
    if not biometric_consent_active(member):
        return EnrollmentOutcome(False, "no_consent", enrollment_message("no_consent"))
    engine = get_engine()
    result = analyse_photo(engine, image, liveness_threshold=enrollment_liveness_threshold(member))
    if not result.ok:
        # not_live: a photo of a photo or of a screen; no template is made of it.
        return EnrollmentOutcome(False, result.reason, enrollment_message(result.reason))
    enrolled = FaceTemplate.objects.filter(member=member).exists()
    if enrolled or Member.objects.filter(pk=member.pk, face_erased_on__isnull=False).exists():
        # A member who deleted their face data (or withdrew face consent) has no template to
        # compare with, only the day it was deleted: staff check the new face in person.
        score, same = replacement_score(member=member, image=image, template=result.template)
        if not same:
            limit = settings.PENDING_FACE_PHOTOS_PER_DAY
            try:
                hold_pending_photo(
                    member=member,
                    photo=image,
                    model_name=engine.model,
                    score=score,
                    channel=channel,
                    actor=actor,
                    limit=limit,
                )
            except PendingLimitReached:
                return EnrollmentOutcome(
                    False, TOO_MANY_REVIEWS, enrollment_message(TOO_MANY_REVIEWS) % {"count": limit}
                )
            reason = PENDING_REVIEW if enrolled else "pending_review_after_erasure"
            return EnrollmentOutcome(False, PENDING_REVIEW, enrollment_message(reason))
    store_face_template(
        member=member,
        template=result.template,
        model_name=engine.model,
        photo=image,
        actor=actor,
        enrolled_live=enrolled_clearly_live(result.cues),
    )
    return EnrollmentOutcome(True, "ok", "")


def replacement_score(*, member: Member, image: bytes, template) -> tuple[float | None, bool]:
    """(best score, same person) of a new photo against the member's own templates: those of the
    active model, else (while members move between models) those of the previous one, each
    with its model's measured 1:1 threshold (EngineConfig.enrollment_match). No template of a
    model that can compare, or no measured threshold: (score or None, False), for staff."""
    engine = get_engine()
    score = best_own_score(member=member, template=template, model_name=engine.model)
    threshold = engine.config.enrollment_match
    previous = settings.FACE_MODEL_PREVIOUS
    if score is None and previous and FaceTemplate.objects.filter(member=member, model_name=previous).exists():
        engine = get_engine(previous)
        result = analyse_photo(engine, image)
        if result.ok:
            score = best_own_score(member=member, template=result.template, model_name=previous)
            threshold = engine.config.enrollment_match
    return score, score is not None and threshold is not None and score >= threshold


class ReviewError(Exception):
    """Why a photo awaiting review cannot be approved (a message for staff)."""


def approve_pending_photo(*, pending: PendingFacePhoto, actor, reason: str) -> None:
    """Staff compared the photo awaiting review with the member and approve it: it becomes a
    template exactly as an enrollment (still only with valid biometric consent), the pending
    row and its file go. Audited. Raises ReviewError when the photo cannot be enrolled."""
    member = pending.member
    if not biometric_consent_active(member):
        raise ReviewError(enrollment_message("no_consent"))
    photo = private_files.read(pending.photo_file)
    engine = get_engine()
    result = analyse_photo(engine, photo)
    if not result.ok:
        raise ReviewError(enrollment_message(result.reason))
    with transaction.atomic():
        Member.objects.select_for_update().filter(pk=member.pk).first()  # the lock order of hold_pending_photo
        if not PendingFacePhoto.objects.select_for_update().filter(pk=pending.pk).exists():
            raise ReviewError(_("This photo has already been reviewed."))
        store_face_template(
            member=member,
            template=result.template,
            model_name=engine.model,
            photo=photo,
            actor=actor,
            reason="approved after review",
            enrolled_live=enrolled_clearly_live(result.cues),
        )
        audit.record(action="face.pending_approve", actor=actor, obj=member, reason=reason)
        erase_pending_photo(member=member, actor=actor, reason="approved")


def reject_pending_photo(*, pending: PendingFacePhoto, actor, reason: str) -> None:
    """Staff reject the photo awaiting review: it is erased; the templates stay. Audited."""
    with transaction.atomic():
        audit.record(action="face.pending_reject", actor=actor, obj=pending.member, reason=reason)
        erase_pending_photo(member=pending.member, actor=actor, reason="rejected")


def analyse_photo(engine: FaceEngine, image: bytes, *, liveness_threshold: float | None = None) -> FaceResult:
    """The engine's verdict on a photo, in the engine's slot (face_runtime.engine_slot): the
    decoding of a photo at the pixel limit and the analysis, one at a time per process, like the
    door's. ``busy`` when the slot stays taken for ENGINE_WAIT_SECONDS."""
    with engine_turn(ENGINE_WAIT_SECONDS) as held:
        if not held:
            return FaceResult(Reason.BUSY)
        return engine.analyse_enrollment(image, liveness_threshold=liveness_threshold)


def enrolled_clearly_live(cues) -> bool:
    """Whether an accepted enrollment photo is clearly live. A photo comes from a
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
        result = analyse_photo(engine, private_files.read(source.photo_file))
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
