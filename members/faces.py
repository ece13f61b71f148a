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


def store_face_template(*, member: Member, template: np.ndarray, model_name: str, photo: bytes | None, actor) -> FaceTemplate:
    """Add a template (and, where the chain keeps member photos, the photo, encrypted). A member
    keeps their FACE_TEMPLATES_PER_MEMBER newest; older ones go. Two or three photos raise the
    door's acceptance markedly (docs/face-engine.md). Recognisable the moment this commits."""
    keep_photo = photo is not None and member.chain.policy.keep_member_photo
    photo_name = private_files.save("member_photo", photo) if keep_photo else ""
    try:
        with transaction.atomic():
            existing = list(FaceTemplate.objects.select_for_update().filter(member=member).order_by("-created_at", "-pk"))
            dropped = existing[max(settings.FACE_TEMPLATES_PER_MEMBER - 1, 0):]
            FaceTemplate.objects.filter(pk__in=[t.pk for t in dropped]).delete()
            created = FaceTemplate.objects.create(member=member, template=encode_template(template),
                                                  model_name=model_name, photo_file=photo_name)
            bump_version(member.chain_id)
            audit.record(action="face.enroll", actor=actor, obj=member, reason="photo kept" if keep_photo else "template only")
            old_photos = [t.photo_file for t in dropped if t.photo_file]
            private_files.delete_on_commit(old_photos)
    except BaseException:
        private_files.delete(photo_name)  # nothing half-written: no orphan photo
        raise
    return created


def erase_biometrics(*, member: Member, actor, reason: str) -> dict:
    """Erase every template and photo of the member, everywhere; returns a receipt.

    Rows go in this transaction, with the gallery version bump that makes every worker drop
    the template before its next search; files go when it commits. Apps above members erase
    what they hold (door photos) through the biometrics_erased signal."""
    with transaction.atomic():
        templates = list(FaceTemplate.objects.select_for_update().filter(member=member))
        photos = [t.photo_file for t in templates if t.photo_file]
        FaceTemplate.objects.filter(pk__in=[t.pk for t in templates]).delete()
        bump_version(member.chain_id)
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
