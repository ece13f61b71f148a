"""A member must not enroll another person's face. A new photo of a member who
already has templates must match them at the model's measured 1:1 threshold
(justface.face.config.ENROLLMENT_MATCH, bench/enrollment_match.py), or it waits for staff, who
see both photos side by side and approve or reject it. Through the real API, portal page and
desk, with real photos (../shared/faces/dev) and the real face model."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from consent import services as consent_services
from consent.enrollment import approve_pending_photo
from consent.models import ConsentRecord
from justface import private_files
from justface.models import AuditEntry
from members import models
from members.models import FaceTemplate
from retention.jobs import purge_due
from retention.services import erase_member
from tests.conftest import face_photo
from tests.portal_helpers import (  # noqa: F401
    api_client,
    commit,
    fresh_cache,
    member_with_login,
    private_root,
    publish_documents,
    sign,
    site_url,
)

pytestmark = pytest.mark.usefixtures("site_url", "fresh_cache", "private_root")
ME = "/api/v1/me"
MEMBER, OTHER = "Colin_Powell", "George_W_Bush"


# members.models.PendingFacePhoto is looked up when used, so that these tests run (and fail on
# their assertions) against the code before the 1:1 check too.


def upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("me.jpg", content, content_type="image/jpeg")


@pytest.fixture
def member(world):
    """A member of chain A (home centre A1) with face consent and one enrollment from their own photo."""
    publish_documents(world.chain_a)
    member = member_with_login(world.chain_a, world.centre_a1)
    sign(member)
    assert api_client(member).post(f"{ME}/face/", {"image": upload(face_photo(MEMBER, 1))}).status_code == 201
    return member


def templates_of(member) -> list[tuple[int, str]]:
    return list(FaceTemplate.objects.filter(member=member).order_by("pk").values_list("pk", "template"))


def pending_files(root) -> list:
    return sorted((root / "pending_photo").glob("*.bin")) if (root / "pending_photo").exists() else []


def test_api_same_person_replaces_another_person_waits_for_staff(member, private_root, commit):
    client = api_client(member)
    own = client.post(f"{ME}/face/", {"image": upload(face_photo(MEMBER, 2))})
    assert own.status_code == 201 and own.json()["enrolled"]
    before = templates_of(member)
    assert len(before) == 2

    other = client.post(f"{ME}/face/", {"image": upload(face_photo(OTHER, 1))})
    assert other.status_code == 202, other.content  # before the 1:1 check: 201, and the other face let in
    assert templates_of(member) == before
    assert own.json()["pending_review"] is False
    body = other.json()
    assert body["status"] == body["code"] == "pending_review" and "staff" in body["detail"]
    assert body["face"]["pending_review"] and body["face"]["enrolled"]
    assert templates_of(member) == before  # the door still knows only the member's own face
    pending = models.PendingFacePhoto.objects.get(member=member)
    assert pending.channel == "api" and pending.score is not None
    # Kept encrypted, like enrollment photos.
    [file] = pending_files(private_root)
    assert private_files.read(pending.photo_file) == face_photo(OTHER, 1)
    assert face_photo(OTHER, 1)[:200] not in file.read_bytes()
    assert AuditEntry.objects.filter(action="face.pending", object_id=str(member.pk)).exists()
    assert client.get(f"{ME}/face/").json()["pending_review"] is True

    # A second mismatch replaces the first: one photo awaits review, the old file is gone.
    with commit():
        assert client.post(f"{ME}/face/", {"image": upload(face_photo(OTHER, 2))}).status_code == 202
    assert models.PendingFacePhoto.objects.filter(member=member).count() == 1 and len(pending_files(private_root)) == 1


def test_first_enrollment_is_as_before(world):
    publish_documents(world.chain_a)
    member = member_with_login(world.chain_a, world.centre_a1)
    sign(member)
    assert api_client(member).post(f"{ME}/face/", {"image": upload(face_photo(OTHER, 1))}).status_code == 201
    assert not models.PendingFacePhoto.objects.exists()


def test_the_schema_documents_the_202(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    responses = schema["paths"]["/api/v1/me/face/"]["post"]["responses"]
    assert set(responses) >= {"201", "202", "400"}
    assert "pending_review" in json.dumps(responses["202"]) and "201" in responses["202"]["description"]


def test_portal_page_tells_the_member_and_changes_nothing(member, client, private_root):
    client.force_login(member.user)
    before = templates_of(member)
    response = client.post(reverse("portal:face"), {"photo": upload(face_photo(OTHER, 1))}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "the staff will check it" in page and "Your new photo waits for the staff to check it." in page
    assert templates_of(member) == before
    assert models.PendingFacePhoto.objects.get(member=member).channel == "portal"
    # Translated: the member reads it in Danish and Norwegian too.
    for language, words in (("da", "personalet"), ("nb", "personalet")):
        with_language = client.get(reverse("portal:face"), HTTP_ACCEPT_LANGUAGE=language)
        client.cookies.pop("django_language", None)
        assert words in with_language.content.decode(), language


def test_desk_photo_of_another_person_needs_a_managers_explicit_approval(member, login, world, private_root, commit):
    before = templates_of(member)
    desk = login("frontdesk_a")
    url = reverse("staff:front-desk-member", args=[member.pk])
    response = desk.post(url, {"action": "photo", "photo": upload(face_photo(OTHER, 1))})
    assert response.status_code == 302 and templates_of(member) == before
    review = reverse("staff:front-desk-review", args=[member.pk])
    assert response["Location"] == review and models.PendingFacePhoto.objects.get(member=member).channel == "desk"

    page = desk.get(review)
    assert page.status_code == 200 and "Only a manager can approve" in page.content.decode()
    assert desk.post(review, {"action": "approve", "confirm": "on"}).status_code == 403
    assert desk.post(review, {"action": "reject"}).status_code == 403
    assert templates_of(member) == before and models.PendingFacePhoto.objects.filter(member=member).exists()

    manager = login("manager_a")
    page = manager.get(review).content.decode()
    # Both photos side by side (the chain keeps no enrollment photo: compare with the member in person).
    assert reverse("staff:front-desk-review-photo", args=[member.pk]) in page and "in person" in page
    assert manager.get(reverse("staff:front-desk-review-photo", args=[member.pk])).content == face_photo(OTHER, 1)
    assert AuditEntry.objects.filter(action="face.pending_view", actor_id=world.user("manager_a").pk).exists()
    unconfirmed = manager.post(review, {"action": "approve"})
    assert unconfirmed.status_code == 200 and templates_of(member) == before  # the tick is required
    with commit():
        approved = manager.post(review, {"action": "approve", "confirm": "on"})
    assert approved.status_code == 302
    after = templates_of(member)
    assert len(after) == len(before) + 1 and after[: len(before)] == before
    assert not models.PendingFacePhoto.objects.exists() and pending_files(private_root) == []
    assert AuditEntry.objects.get(action="face.pending_approve").actor_id == world.user("manager_a").pk


def test_desk_photo_of_the_same_person_is_enrolled_at_once(member, login):
    before = templates_of(member)
    response = login("frontdesk_a").post(
        reverse("staff:front-desk-member", args=[member.pk]),
        {"action": "photo", "photo": upload(face_photo(MEMBER, 2))},
    )
    assert response.status_code == 302 and len(templates_of(member)) == len(before) + 1
    assert not models.PendingFacePhoto.objects.exists()


def test_review_side_by_side_with_the_kept_photo_and_reject(world, login, private_root, commit):
    world.chain_a.settings = {"keep_member_photo": True}
    world.chain_a.save()
    publish_documents(world.chain_a)
    member = member_with_login(world.chain_a, world.centre_a1)
    sign(member)
    client = api_client(member)
    assert client.post(f"{ME}/face/", {"image": upload(face_photo(MEMBER, 1))}).status_code == 201
    assert client.post(f"{ME}/face/", {"image": upload(face_photo(OTHER, 1))}).status_code == 202
    before = templates_of(member)

    manager = login("manager_a")
    review = reverse("staff:front-desk-review", args=[member.pk])
    page = manager.get(review).content.decode()
    assert reverse("staff:front-desk-photo", args=[member.pk]) in page
    assert reverse("staff:front-desk-review-photo", args=[member.pk]) in page
    assert manager.get(reverse("staff:front-desk-photo", args=[member.pk])).content == face_photo(MEMBER, 1)
    assert reverse("staff:front-desk-reviews") in manager.get(reverse("staff:desk")).content.decode()
    listing = manager.get(reverse("staff:front-desk-reviews"))
    assert [p.member_id for p in listing.context["pending"]] == [member.pk]
    assert "1 new face photo awaits review" in manager.get(reverse("staff:front-desk")).content.decode()

    with commit():
        assert manager.post(review, {"action": "reject"}).status_code == 302
    assert templates_of(member) == before and not models.PendingFacePhoto.objects.exists()
    assert pending_files(private_root) == []
    assert AuditEntry.objects.filter(action="face.pending_reject", object_id=str(member.pk)).exists()


def test_staff_of_another_chain_see_nothing(member, login):
    assert api_client(member).post(f"{ME}/face/", {"image": upload(face_photo(OTHER, 1))}).status_code == 202
    outsider = login("manager_b")
    assert outsider.get(reverse("staff:front-desk-reviews")).context["pending"] == []
    for name in ("staff:front-desk-review", "staff:front-desk-review-photo"):
        assert outsider.get(reverse(name, args=[member.pk])).status_code == 404
    assert outsider.post(reverse("staff:front-desk-review", args=[member.pk]), {"action": "reject"}).status_code == 404
    assert login("dpo_a").get(reverse("staff:front-desk-review", args=[member.pk])).status_code == 403
    assert models.PendingFacePhoto.objects.filter(member=member).exists()


def test_pending_photo_is_exported_and_erased_with_withdrawal_member_and_time(member, world, private_root, commit):
    client = api_client(member)
    assert client.post(f"{ME}/face/", {"image": upload(face_photo(OTHER, 1))}).status_code == 202
    export = client.get(f"{ME}/export/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(export.streaming_content) if export.streaming else export.content))
    face = json.loads(archive.read("face.json"))
    assert [row["awaiting_review"] for row in face] == [False, True]
    assert face_photo(OTHER, 1) in [archive.read(name) for name in archive.namelist()]

    with commit():  # withdrawal erases it with the templates
        consent_services.withdraw(
            member=member,
            kind="biometric",
            actor=member.user,
            evidence=consent_services.Evidence(channel=ConsentRecord.Channel.PORTAL, ip_address="", user_agent=""),
        )
    assert not models.PendingFacePhoto.objects.exists() and pending_files(private_root) == []

    sign(member)
    # After a withdrawal the next photo, even the member's own, has nothing to compare with: staff
    # look at it once (test_face_after_erasure.py); approved, it is the reference again.
    assert client.post(f"{ME}/face/", {"image": upload(face_photo(MEMBER, 1))}).status_code == 202
    with commit():
        approve_pending_photo(pending=models.PendingFacePhoto.objects.get(member=member), actor=None, reason="test")
    assert client.post(f"{ME}/face/", {"image": upload(face_photo(OTHER, 1))}).status_code == 202
    with commit():  # erased with the member
        erase_member(member=member, actor=None, reason="test")
    assert not models.PendingFacePhoto.objects.exists() and pending_files(private_root) == []


def test_an_unreviewed_photo_is_erased_by_the_purge(member, settings, private_root, commit):
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        assert api_client(member).post(f"{ME}/face/", {"image": upload(face_photo(OTHER, 1))}).status_code == 202
    with commit():
        assert (
            purge_due(at=start + dt.timedelta(days=settings.PENDING_FACE_PHOTO_DAYS - 1))["pending_face_photos_erased"]
            == 0
        )
    assert models.PendingFacePhoto.objects.exists()
    with commit():
        report = purge_due(at=start + dt.timedelta(days=settings.PENDING_FACE_PHOTO_DAYS, minutes=1))
    assert report["pending_face_photos_erased"] == 1
    assert not models.PendingFacePhoto.objects.exists() and pending_files(private_root) == []


def test_while_members_move_between_models_the_previous_model_compares(world, settings):
    """A member enrolled with the previous model (FaceNet CASIA) only: their new photo is
    compared in that model, at its own measured threshold; with no model left to compare, staff decide."""
    settings.FACE_MODEL, settings.FACE_MODEL_PREVIOUS = "facenet-casia", ""
    publish_documents(world.chain_a)
    member = member_with_login(world.chain_a, world.centre_a1)
    sign(member)
    client = api_client(member)
    assert client.post(f"{ME}/face/", {"image": upload(face_photo(MEMBER, 1))}).status_code == 201
    settings.FACE_MODEL, settings.FACE_MODEL_PREVIOUS = "sface", "facenet-casia"

    assert client.post(f"{ME}/face/", {"image": upload(face_photo(OTHER, 1))}).status_code == 202
    assert models.PendingFacePhoto.objects.get(member=member).score is not None  # compared in CASIA
    assert client.post(f"{ME}/face/", {"image": upload(face_photo(MEMBER, 2))}).status_code == 201
    assert sorted(FaceTemplate.objects.filter(member=member).values_list("model_name", flat=True)) == [
        "facenet-casia",
        "sface",
    ]

    other = member_with_login(world.chain_a, world.centre_a1)
    sign(other)
    settings.FACE_MODEL, settings.FACE_MODEL_PREVIOUS = "facenet-casia", ""
    assert api_client(other).post(f"{ME}/face/", {"image": upload(face_photo(OTHER, 1))}).status_code == 201
    settings.FACE_MODEL, settings.FACE_MODEL_PREVIOUS = "sface", ""  # the move is over: nothing compares
    assert api_client(other).post(f"{ME}/face/", {"image": upload(face_photo(OTHER, 2))}).status_code == 202
    assert models.PendingFacePhoto.objects.get(member=other).score is None
