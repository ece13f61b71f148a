"""Services for face templates and the enrollment photo: the only code that writes or erases them."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from justface import audit, personal_data, private_files
from justface.models import AuditEntry
from members.gallery import bump_version, decode_template, encode_template
from members.models import FaceTemplate, Member, PendingFacePhoto


def store_face_template(
    *,
    member: Member,
    template: np.ndarray,
    model_name: str,
    photo: bytes | None,
    actor,
    reason: str = "",
    enrolled_live: bool = True,
) -> FaceTemplate:
    """Add a template (and, where the chain keeps member photos, the photo, encrypted). A member
    keeps their FACE_TEMPLATES_PER_MEMBER newest of each model; older ones go. Two or three
    photos raise the door's acceptance markedly (docs/face-engine.md). Recognisable the moment
    this commits."""
    keep_photo = photo is not None and member.chain.policy.keep_member_photo
    photo_name = private_files.save("member_photo", photo) if keep_photo else ""
    try:
        with transaction.atomic():
            created = _add_template(member, template, model_name, photo_name, enrolled_live)
            # Enrolled again (after staff approved it): the templates are the reference now.
            Member.objects.filter(pk=member.pk, face_erased_on__isnull=False).update(face_erased_on=None)
            member.face_erased_on = None
            audit.record(
                action="face.enroll",
                actor=actor,
                obj=member,
                reason=reason or ("photo kept" if keep_photo else "template only"),
            )
    except BaseException:
        private_files.delete(photo_name)  # nothing half-written: no orphan photo
        raise
    return created


def move_template(*, source: FaceTemplate, template: np.ndarray, model_name: str, actor) -> FaceTemplate:
    """A new-model template computed from ``source``'s kept photo: the photo passes to the new
    template (``source`` stays, without it, until the move between models ends). Idempotent for
    callers that pick sources still holding a photo."""
    with transaction.atomic():
        source = FaceTemplate.objects.select_for_update().get(pk=source.pk)
        photo_name = source.photo_file
        FaceTemplate.objects.filter(pk=source.pk).update(photo_file="")
        created = _add_template(source.member, template, model_name, photo_name, source.enrolled_live)
        audit.record(
            action="face.reenroll", actor=actor, obj=source.member, reason=f"template #{source.pk} -> {model_name}"
        )
    return created


def _add_template(
    member: Member, template: np.ndarray, model_name: str, photo_name: str, enrolled_live: bool = True
) -> FaceTemplate:
    """Inside a transaction: the member's newest templates of the model stay, up to the cap."""
    existing = list(
        FaceTemplate.objects.select_for_update()
        .filter(member=member, model_name=model_name)
        .order_by("-created_at", "-pk")
    )
    dropped = existing[max(settings.FACE_TEMPLATES_PER_MEMBER - 1, 0) :]
    FaceTemplate.objects.filter(pk__in=[t.pk for t in dropped]).delete()
    created = FaceTemplate.objects.create(
        member=member,
        template=encode_template(template),
        model_name=model_name,
        photo_file=photo_name,
        enrolled_live=enrolled_live,
    )
    bump_version(member.chain_id, [member.pk])
    private_files.delete_on_commit([t.photo_file for t in dropped if t.photo_file])
    return created


def erase_retired_templates(*, chain_id: int, keep_models: list[str], actor, reason: str) -> int:
    """Erase the chain's templates of every model not in ``keep_models`` (a move between models
    has ended), with their photos, like any other template; one audit entry per member."""
    with transaction.atomic():
        retired = list(
            FaceTemplate.objects.select_for_update()
            .filter(member__chain_id=chain_id)
            .exclude(model_name__in=keep_models)
        )
        if not retired:
            return 0
        FaceTemplate.objects.filter(pk__in=[t.pk for t in retired]).delete()
        bump_version(chain_id, [t.member_id for t in retired])
        for member_id in sorted({t.member_id for t in retired}):
            audit.record(
                action="face.erase",
                actor=actor,
                object_type="members.member",
                object_id=member_id,
                chain_id=chain_id,
                reason=reason,
            )
        private_files.delete_on_commit([t.photo_file for t in retired if t.photo_file])
    return len(retired)


def best_own_score(*, member: Member, template: np.ndarray, model_name: str) -> float | None:
    """The highest similarity of ``template`` to the member's own templates of ``model_name``
    (None: they have none of that model)."""
    rows = FaceTemplate.objects.filter(member=member, model_name=model_name).values_list("template", flat=True)
    own = [decode_template(row) for row in rows]
    if not own:
        return None
    return float((np.stack(own) @ np.asarray(template, dtype=np.float32)).max())


class PendingLimitReached(Exception):
    """The member already had ``limit`` photos held for review in the last 24 hours."""


def hold_pending_photo(
    *,
    member: Member,
    photo: bytes,
    model_name: str,
    score: float | None,
    channel: str,
    actor,
    limit: int | None = None,
) -> PendingFacePhoto:
    """Keep a new enrollment photo that did not match the member's templates (encrypted) for
    staff to review; nothing of it reaches the templates. A newer one replaces an older one,
    whose file is erased. ``limit``: at most that many in 24 hours (pending_photos_today), else
    PendingLimitReached and nothing is kept; checked under the member's row lock, so two
    uploads at once cannot both slip under it."""
    photo_name = private_files.save("pending_photo", photo)
    try:
        with transaction.atomic():
            Member.objects.select_for_update().filter(pk=member.pk).first()
            if limit is not None and pending_photos_today(member=member) >= limit:
                raise PendingLimitReached
            old = PendingFacePhoto.objects.select_for_update().filter(member=member).first()
            if old is not None:
                old.delete()
                private_files.delete_on_commit([old.photo_file])
            pending = PendingFacePhoto.objects.create(
                member=member, photo_file=photo_name, model_name=model_name, score=score, channel=channel
            )
            audit.record(
                action="face.pending",
                actor=actor,
                obj=member,
                reason=f"{channel}: " + ("no template to compare" if score is None else f"score {score:.3f}"),
            )
    except BaseException:
        private_files.delete(photo_name)
        raise
    return pending


def erase_pending_photo(*, member: Member, actor, reason: str) -> int:
    """Erase the member's photo awaiting review, if any (rejected, withdrawn, approved: it is
    now a template); 1 if there was one. The file goes when the transaction commits."""
    with transaction.atomic():
        pending = PendingFacePhoto.objects.select_for_update().filter(member=member).first()
        if pending is None:
            return 0
        pending.delete()
        private_files.delete_on_commit([pending.photo_file])
        audit.record(action="face.pending_erase", actor=actor, obj=member, reason=reason)
    return 1


def erase_expired_pending_photos(*, before: datetime) -> int:
    """Photos nobody reviewed within PENDING_FACE_PHOTO_DAYS: erased by the daily purge."""
    erased = 0
    for member in Member.objects.filter(pending_face_photo__created_at__lt=before).select_related("chain"):
        erased += erase_pending_photo(member=member, actor=None, reason="not reviewed in time")
    return erased


def pending_photos_today(*, member: Member) -> int:
    """How many photos of the member were held for staff review in the last 24 hours (each one
    is audited as face.pending; the audit trail is append-only, so replacing, rejecting or
    deleting a photo does not reset the count)."""
    return AuditEntry.objects.filter(
        action="face.pending",
        object_type=Member._meta.label_lower,
        object_id=str(member.pk),
        at__gte=timezone.now() - timedelta(days=1),
    ).count()


def erase_face_rows(*, member: Member, actor, reason: str) -> tuple[int, int]:
    """Erase every template and photo of the member (a photo awaiting review too); returns how
    many templates and photos went. Rows go in the caller's transaction, with the gallery version
    bump that makes every worker drop the template before its next search; files go when it
    commits. The face category's eraser in the personal-data registry (members.personal_data)."""
    templates = list(FaceTemplate.objects.select_for_update().filter(member=member))
    pending = list(PendingFacePhoto.objects.select_for_update().filter(member=member))
    photos = [t.photo_file for t in templates if t.photo_file] + [p.photo_file for p in pending]
    FaceTemplate.objects.filter(pk__in=[t.pk for t in templates]).delete()
    PendingFacePhoto.objects.filter(pk__in=[p.pk for p in pending]).delete()
    bump_version(member.chain_id, [member.pk])
    audit.record(action="face.erase", actor=actor, obj=member, reason=reason)
    private_files.delete_on_commit(photos)
    return len(templates), len(photos)


def erase_biometrics(*, member: Member, actor, reason: str, remember: bool = False) -> dict:
    """Erase every biometric category of the personal-data registry for the member: their
    templates and photos (erase_face_rows), then what the apps above hold (door photos: access);
    returns a receipt.

    ``remember``: the member asked for it (deleted their face, withdrew their consent) and stays
    a member: if they had a face enrolled, keep the day (Member.face_erased_on, no biometric data)
    so that their next enrollment goes to staff review. Not for a whole member's
    erasure or the retention job."""
    with transaction.atomic():
        # The member's row first, as every writer of their face rows takes it (one lock order).
        Member.objects.select_for_update().filter(pk=member.pk).first()
        erased: dict[str, int | bool] = {}
        for category in personal_data.registered():
            if category.biometric:
                lines = category.erase(member, actor=actor, reason=reason)
                erased |= personal_data.counts(personal_data.checked(category, lines))
        if remember and erased.get("face_templates"):
            member.face_erased_on = timezone.localdate()
            Member.objects.filter(pk=member.pk).update(face_erased_on=member.face_erased_on)
    return {"erased_at": timezone.now().isoformat(), **erased, "reason": reason}
