"""Moving enrolled members from the CASIA FaceNet to SFace without locking anyone out, on real
faces: the door asks the previous model about members not moved yet, moves those it admits,
re-enrollment from kept photos, the end of the move, and erasure of every model's templates."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from consent.enrollment import enroll_face
from justface.face_runtime import get_engine
from justface.models import AuditEntry
from members.faces import erase_biometrics
from members.gallery import gallery_for, identify, previous_gallery_for
from members.models import FaceTemplate
from retention.jobs import purge_due
from tests.access.conftest import enrolled, kept_files, withdraw_face_consent
from tests.access.test_scans import decided
from tests.conftest import face_photo
from tests.portal_helpers import api_client, member_with_login, publish_documents, sign

SFACE, CASIA = "sface", "facenet-casia"


@pytest.fixture
def on_casia(settings):
    """Enroll as before SFace; switch() then moves the installation to SFace."""
    settings.FACE_MODEL, settings.FACE_MODEL_PREVIOUS = CASIA, ""

    def switch(previous: str = CASIA):
        settings.FACE_MODEL, settings.FACE_MODEL_PREVIOUS = SFACE, previous

    return switch


def models_of(member) -> list[str]:
    return sorted(member.face_templates.values_list("model_name", flat=True))


def test_templates_of_two_models_are_never_mixed(world, tablet_a, on_casia):
    colin = enrolled(world.chain_a, world.centre_a1, "Colin_Powell")  # FaceNet, 512-d
    on_casia()
    tony = enrolled(world.chain_a, world.centre_a1, "Tony_Blair")  # SFace, 128-d
    assert models_of(colin) == [CASIA] and models_of(tony) == [SFACE]

    sface_gallery, casia_gallery = gallery_for(world.chain_a.pk), gallery_for(world.chain_a.pk, CASIA)
    assert (sface_gallery.identities, sface_gallery.dim) == ((tony.pk,), 128)
    assert (casia_gallery.identities, casia_gallery.dim) == ((colin.pk,), 512)
    # Colin's face, in the active model, can only ever be compared with SFace templates.
    probe = get_engine().analyse_door_frame(face_photo("Colin_Powell", 2)).template
    found = identify(chain_id=world.chain_a.pk, template=probe)
    assert not found.accepted and found.best_member_id == tony.pk
    with pytest.raises(ValueError, match="width 128 searched in a gallery of width 512"):
        casia_gallery.search(probe)


def test_the_door_admits_a_member_not_yet_moved_and_moves_them(world, tablet_a, on_casia):
    colin = enrolled(world.chain_a, world.centre_a1, "Colin_Powell", first_name="Colin")
    on_casia()
    assert previous_gallery_for(world.chain_a.pk).identities == (colin.pk,)

    body = decided(tablet_a.scan(face_photo("Colin_Powell", 2)))  # recognised by the previous model
    assert body["member"] == {"first_name": "Colin"}
    assert models_of(colin) == [CASIA, SFACE]
    assert (
        AuditEntry.objects.filter(
            action="face.enroll", object_id=str(colin.pk), reason="door frame, recognised by facenet-casia"
        ).count()
        == 1
    )
    # Moved: the previous model is not asked about Colin any more; SFace knows him now.
    assert previous_gallery_for(world.chain_a.pk) is None
    assert decided(tablet_a.scan(face_photo("Colin_Powell", 3)))["member"] == {"first_name": "Colin"}
    found = identify(
        chain_id=world.chain_a.pk, template=get_engine().analyse_door_frame(face_photo("Colin_Powell", 4)).template
    )
    assert found.member_id == colin.pk


def test_a_stranger_is_not_admitted_by_either_model(world, tablet_a, on_casia):
    enrolled(world.chain_a, world.centre_a1, "Colin_Powell")
    on_casia()
    enrolled(world.chain_a, world.centre_a1, "Tony_Blair")
    decided(tablet_a.scan(face_photo("Hugo_Chavez", 1)), "denied", "not_recognised")
    assert FaceTemplate.objects.count() == 2  # nobody was moved by a stranger's frame


def test_without_a_move_the_previous_model_is_never_asked(world, tablet_a, on_casia):
    enrolled(world.chain_a, world.centre_a1, "Colin_Powell")
    on_casia(previous="")
    assert previous_gallery_for(world.chain_a.pk) is None
    decided(tablet_a.scan(face_photo("Colin_Powell", 2)), "denied", "not_recognised")


def test_reenroll_moves_kept_photos_once_and_only_with_consent(world, on_casia, capsys):
    world.chain_a.settings = {"keep_member_photo": True}
    world.chain_a.save()
    colin = enrolled(world.chain_a, world.centre_a1, "Colin_Powell")
    colin.refresh_from_db()
    tony = enrolled(world.chain_a, world.centre_a1, "Tony_Blair")
    withdrawn = enrolled(world.chain_a, world.centre_a1, "Hugo_Chavez")
    photo = colin.face_templates.get().photo_file
    withdraw_face_consent(withdrawn)  # (the consent service would erase at once; here only the record)
    on_casia()

    call_command("reenroll_faces", "--chain", world.chain_a.slug)
    out = capsys.readouterr().out
    assert "3 member(s) with kept photos to move: 2 photo(s) now have a sface template" in out
    assert "1 member(s) skipped (no valid face consent)" in out
    assert models_of(colin) == [CASIA, SFACE] and models_of(withdrawn) == [CASIA]
    moved = colin.face_templates.get(model_name=SFACE)
    assert moved.photo_file == photo and colin.face_templates.get(model_name=CASIA).photo_file == ""
    assert AuditEntry.objects.filter(action="face.reenroll", object_id=str(colin.pk)).count() == 1

    call_command("reenroll_faces", "--chain", world.chain_a.slug)  # idempotent: nothing left to move
    assert "1 member(s) with kept photos to move: 0 photo(s)" in capsys.readouterr().out
    assert FaceTemplate.objects.filter(model_name=SFACE).count() == 2
    found = identify(
        chain_id=world.chain_a.pk, template=get_engine().analyse_door_frame(face_photo("Tony_Blair", 2)).template
    )
    assert found.member_id == tony.pk

    call_command("reenroll_faces", "--status")
    status = capsys.readouterr().out
    assert f"{world.chain_a.slug}: members with templates of facenet-casia: 3, sface: 2 (active: sface)" in status


def test_reenroll_refuses_an_unknown_chain(db):
    with pytest.raises(CommandError, match="No chain with the slug 'nope'"):
        call_command("reenroll_faces", "--chain", "nope")


def test_ending_the_move_erases_old_templates_by_command_or_by_setting(
    world, on_casia, private_root, django_capture_on_commit_callbacks
):
    world.chain_a.settings = {"keep_member_photo": True}
    world.chain_a.save()
    colin = enrolled(world.chain_a, world.centre_a1, "Colin_Powell")
    bob = enrolled(world.chain_b, world.centre_b1, "George_W_Bush")
    on_casia()
    enroll_face(member=colin, image=face_photo("Colin_Powell", 3), actor=None)
    assert models_of(colin) == [CASIA, SFACE] and len(kept_files(private_root)) == 2

    with django_capture_on_commit_callbacks(execute=True):
        call_command("end_face_transition", "--chain", world.chain_a.slug)
    assert models_of(colin) == [SFACE] and models_of(bob) == [CASIA]  # chain B not touched
    assert len(kept_files(private_root)) == 1  # the old template's photo went with it

    assert purge_due()["retired_templates_erased"] == 0  # chain B is still moving
    on_casia(previous="")  # the move ends for everyone: the retention job erases the rest
    assert purge_due()["retired_templates_erased"] == 1
    assert models_of(bob) == []
    assert AuditEntry.objects.filter(action="face.erase", object_id=str(bob.pk), reason="face model retired").exists()


def test_withdrawal_and_erasure_remove_every_models_templates(world, on_casia):
    colin = enrolled(world.chain_a, world.centre_a1, "Colin_Powell")
    on_casia()
    enroll_face(member=colin, image=face_photo("Colin_Powell", 3), actor=None)
    assert models_of(colin) == [CASIA, SFACE]
    receipt = erase_biometrics(member=colin, actor=None, reason="withdrawn")
    assert receipt["face_templates"] == 2 and not colin.face_templates.exists()
    assert gallery_for(world.chain_a.pk).identities == () and previous_gallery_for(world.chain_a.pk) is None


def test_templates_per_member_are_capped_per_model(world, on_casia, settings):
    colin = enrolled(world.chain_a, world.centre_a1, "Colin_Powell")
    on_casia()
    settings.FACE_TEMPLATES_PER_MEMBER = 2
    for n in (2, 3, 4):
        assert enroll_face(member=colin, image=face_photo("Colin_Powell", n), actor=None).ok
    assert models_of(colin) == [CASIA, SFACE, SFACE]  # the newest two SFace ones; the FaceNet one stays


def test_portal_and_api_ask_a_member_not_moved_for_a_new_photo(world, on_casia, client):
    publish_documents(world.chain_a)
    colin = member_with_login(world.chain_a, world.centre_a1)
    sign(colin)
    assert enroll_face(member=colin, image=face_photo("Colin_Powell", 1), actor=None).ok
    on_casia()
    client.force_login(colin.user)
    api = api_client(colin)
    assert "Please add a new photo." in client.get("/me/face/").content.decode()
    assert "Please add a new photo to keep face scan working." in client.get("/me/").content.decode()
    assert api.get("/api/v1/me/face/").json()["renew_photo"] is True
    assert enroll_face(member=colin, image=face_photo("Colin_Powell", 3), actor=None).ok
    assert "Please add a new photo." not in client.get("/me/face/").content.decode()
    assert api.get("/api/v1/me/face/").json()["renew_photo"] is False


def test_install_command_refuses_a_model_file_with_another_hash(settings, tmp_path):
    bad = tmp_path / "sface.onnx"
    bad.write_bytes(np.zeros(100, np.uint8).tobytes())
    settings.DATA_DIR, settings.SFACE_SOURCE = tmp_path / "data", str(bad)
    with pytest.raises(
        CommandError, match=r"^SFace from .*sface.onnx: sha256 [0-9a-f]{64} is not the pinned [0-9a-f]{64}; refused\.$"
    ):
        call_command("install_face_model")
