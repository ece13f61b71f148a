"""Enrolling a face: only with active explicit consent, through the engine's gate, with the
photo kept encrypted only where the chain's policy says so, and nothing left after erasure."""

import hashlib

import pytest
from django.utils import timezone

from consent.enrollment import enroll_face
from consent.models import ConsentDocument, ConsentRecord
from justface import private_files
from members.faces import erase_biometrics
from members.models import FaceTemplate
from tests.conftest import face_photo, make_member


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


def consent_to_face_scan(member) -> None:
    body = "I agree that my face template is used to let me in. I can use my PIN instead at any time."
    document, _ = ConsentDocument.objects.get_or_create(
        chain=member.chain,
        kind=ConsentDocument.Kind.BIOMETRIC,
        language="en",
        version=1,
        defaults=dict(title="Face scan", body=body, published_at=timezone.now()),
    )
    ConsentRecord.objects.create(
        member=member,
        document=document,
        action=ConsentRecord.Action.SIGN,
        text_sha256=hashlib.sha256(document.body.encode()).hexdigest(),
        typed_name=member.full_name,
    )


def test_refused_without_consent(world):
    member = make_member(world.chain_a, world.centre_a1)
    outcome = enroll_face(member=member, image=face_photo("Colin_Powell", 1), actor=None)
    assert (outcome.ok, outcome.reason) == (False, "no_consent")
    assert "PIN" in outcome.message
    assert not FaceTemplate.objects.exists()


@pytest.mark.parametrize("image, reason", [(b"not a photo at all", "not_an_image")])
def test_gate_rejections_have_member_messages(world, image, reason):
    member = make_member(world.chain_a, world.centre_a1)
    consent_to_face_scan(member)
    outcome = enroll_face(member=member, image=image, actor=None)
    assert (outcome.ok, outcome.reason) == (False, reason) and outcome.message
    assert not FaceTemplate.objects.exists()


def test_template_only_by_default(world, private_root):
    member = make_member(world.chain_a, world.centre_a1)
    consent_to_face_scan(member)
    outcome = enroll_face(member=member, image=face_photo("Colin_Powell", 1), actor=None)
    assert outcome.ok, outcome.message
    template = FaceTemplate.objects.get(member=member)
    assert template.photo_file == "" and not any(private_root.rglob("*.bin"))


def test_photo_kept_encrypted_when_chain_says_so_and_erased(world, private_root):
    world.chain_a.settings = {"keep_member_photo": True}
    world.chain_a.save()
    member = make_member(world.chain_a, world.centre_a1)
    consent_to_face_scan(member)
    photo = face_photo("Colin_Powell", 1)
    assert enroll_face(member=member, image=photo, actor=None).ok
    template = FaceTemplate.objects.get(member=member)
    assert private_files.read(template.photo_file) == photo
    assert photo[:200] not in (private_root / template.photo_file).read_bytes()

    receipt = erase_biometrics(member=member, actor=None, reason="withdrawn")
    assert receipt["member_photos"] == 1
    assert not FaceTemplate.objects.filter(member=member).exists()


@pytest.mark.django_db(transaction=True)
def test_erasure_removes_photo_files_on_commit(world, private_root):
    world.chain_a.settings = {"keep_member_photo": True}
    world.chain_a.save()
    member = make_member(world.chain_a, world.centre_a1)
    consent_to_face_scan(member)
    assert enroll_face(member=member, image=face_photo("Colin_Powell", 1), actor=None).ok
    assert len(list(private_root.rglob("*.bin"))) == 1
    erase_biometrics(member=member, actor=None, reason="withdrawn")
    assert list(private_root.rglob("*.bin")) == []
