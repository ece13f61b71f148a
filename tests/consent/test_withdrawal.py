"""Withdrawing consent: a new record with a receipt; for face scan the template and every photo
are erased at once, and the face is no longer recognised."""

import pytest
from django.core.exceptions import ValidationError

from consent import selectors, services
from consent.enrollment import enroll_face
from consent.models import ConsentRecord
from justface.face_runtime import get_engine
from members.gallery import identify
from members.models import FaceTemplate
from tests.conftest import face_photo
from tests.portal_helpers import member_with_login, private_root, publish_documents, sign  # noqa: F401

EVIDENCE = services.Evidence(channel="portal", ip_address="203.0.113.9", user_agent="pytest")


@pytest.fixture
def enrolled(world, private_root):  # noqa: F811
    world.chain_a.settings = {"keep_member_photo": True}
    world.chain_a.save()
    publish_documents(world.chain_a)
    member = member_with_login(world.chain_a, world.centre_a1)
    sign(member)
    outcome = enroll_face(member=member, image=face_photo("Colin_Powell", 1), actor=member.user)
    assert outcome.ok, outcome.message
    return member


def _door(chain_id: int, image: bytes):
    result = get_engine().analyse_door_frame(image)
    assert result.ok, result.reason
    return identify(chain_id=chain_id, template=result.template)


def test_withdrawal_erases_template_and_photo_and_the_door_stops_recognising(
    enrolled,
    private_root,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    assert _door(enrolled.chain_id, face_photo("Colin_Powell", 2)).member_id == enrolled.pk
    assert any(private_root.rglob("*.bin"))
    signature = selectors.latest_signature(enrolled, "biometric")

    with django_capture_on_commit_callbacks(execute=True):  # files go when the erasure commits
        record = services.withdraw(member=enrolled, kind="biometric", evidence=EVIDENCE, actor=enrolled.user)

    assert record.action == ConsentRecord.Action.WITHDRAW and record.document == signature.document
    assert record.text_sha256 == signature.text_sha256 and record.channel == "portal"
    assert (record.receipt["face_templates"], record.receipt["member_photos"]) == (1, 1) and record.receipt["erased_at"]
    assert not FaceTemplate.objects.filter(member=enrolled).exists()
    assert not any(private_root.rglob("*.bin"))
    assert not selectors.biometric_consent_active(enrolled)
    assert _door(enrolled.chain_id, face_photo("Colin_Powell", 2)).member_id is None
    # the signature itself is untouched: withdrawal never edits it
    assert ConsentRecord.objects.get(pk=signature.pk).action == ConsentRecord.Action.SIGN


def test_enrollment_refused_after_withdrawal(enrolled):
    services.withdraw(member=enrolled, kind="biometric", evidence=EVIDENCE, actor=None)
    assert enroll_face(member=enrolled, image=face_photo("Colin_Powell", 3), actor=None).reason == "no_consent"


def test_nothing_to_withdraw_and_terms_are_not_a_consent(world):
    publish_documents(world.chain_a)
    member = member_with_login(world.chain_a, world.centre_a1)
    for kind, code in [("biometric", "nothing_to_withdraw"), ("terms", "not_withdrawable")]:
        with pytest.raises(ValidationError) as error:
            services.withdraw(member=member, kind=kind, evidence=EVIDENCE, actor=None)
        assert error.value.code == code
    sign(member, "marketing")
    record = services.withdraw(member=member, kind="marketing", evidence=EVIDENCE, actor=None)
    assert record.receipt == {} and selectors.latest_signature(member, "marketing") is None
