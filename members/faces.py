"""Services for face templates and the enrollment photo: the only code that writes or erases them."""

from __future__ import annotations

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from justface import audit, private_files
from members.gallery import bump_version, encode_template
from members.models import FaceTemplate, Member
from members.signals import biometrics_erased


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


def erase_biometrics(*, member: Member, actor, reason: str) -> dict:
    """Erase every template and photo of the member, everywhere; returns a receipt.

    Rows go in this transaction, with the gallery version bump that makes every worker drop
    the template before its next search; files go when it commits. Apps above members erase
    what they hold (door photos) through the biometrics_erased signal."""
    with transaction.atomic():
        templates = list(FaceTemplate.objects.select_for_update().filter(member=member))
        photos = [t.photo_file for t in templates if t.photo_file]
        FaceTemplate.objects.filter(pk__in=[t.pk for t in templates]).delete()
        bump_version(member.chain_id, [member.pk])
        responses = biometrics_erased.send(sender=Member, member=member)
        other_photos = sum(r for _, r in responses if isinstance(r, int))
        audit.record(action="face.erase", actor=actor, obj=member, reason=reason)
        private_files.delete_on_commit(photos)
    return {
        "erased_at": timezone.now().isoformat(),
        "face_templates": len(templates),
        "member_photos": len(photos),
        "door_photos": other_photos,
        "reason": reason,
    }
