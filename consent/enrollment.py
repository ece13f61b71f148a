"""Enrolling a member's face: only with active explicit consent, only through the engine's gate."""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from consent.selectors import biometric_consent_active
from justface.face_messages import enrollment_message
from justface.face_runtime import get_engine
from members.faces import store_face_template
from members.models import Member


@dataclass(frozen=True)
class EnrollmentOutcome:
    ok: bool
    reason: str  # "ok" or the engine's / consent's reason code
    message: str  # for the member, in the active language


def enroll_face(*, member: Member, image: bytes, actor) -> EnrollmentOutcome:
    if not biometric_consent_active(member):
        return EnrollmentOutcome(False, "no_consent", enrollment_message("no_consent"))
    result = get_engine().analyse_enrollment(image)
    if not result.ok:
        return EnrollmentOutcome(False, result.reason, enrollment_message(result.reason))
    store_face_template(member=member, template=result.template, model_name=str(settings.FACE_MODEL)[-64:],
                                   photo=image, actor=actor)
    return EnrollmentOutcome(True, "ok", "")
