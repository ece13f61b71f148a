"""The way around it: a member who deletes their face data (or withdraws face
consent and signs again) has no template left, so their next photo was a "first enrollment" and
anyone's face went in unchecked. The day of the deletion is kept (Member.face_erased_on: no
template, no photo), and the next enrollment goes to staff review like a photo that does not
match. And a member cannot flood the staff with photos: at most
JUSTFACE_PENDING_FACE_PHOTOS_PER_DAY are held in 24 hours. Through the real API, portal pages and
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

from members.models import FaceTemplate, Member
from members.subject_data import held_about
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
MEMBER, OTHER, THIRD = "Colin_Powell", "George_W_Bush", "Tony_Blair"
# 10:00 in Copenhagen: the day of the deletion is this date wherever the test runs.
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("me.jpg", content, content_type="image/jpeg")


def pending_of(member):
    # Looked up when used (PendingFacePhoto exists on main already; keeps the import list short).
    from members.models import PendingFacePhoto

    return PendingFacePhoto.objects.filter(member=member).first()


@pytest.fixture(autouse=True)
def clock():
    """Every test from 2026-03-02 10:00 Copenhagen time (the clock runs: records keep their order)."""
    with time_machine.travel(NOW) as traveller:
        yield traveller


@pytest.fixture
def member(world, clock):
    """A member of chain A with face consent and one enrollment from their own photo."""
    publish_documents(world.chain_a)
    member = member_with_login(world.chain_a, world.centre_a1)
    sign(member)
    assert api_client(member).post(f"{ME}/face/", {"image": upload(face_photo(MEMBER, 1))}).status_code == 201
    return member


def erased_on(member) -> dt.date | None:
    return Member.objects.get(pk=member.pk).face_erased_on


@pytest.mark.parametrize("how", ["api", "portal"])
def test_delete_my_face_then_another_persons_face_waits_for_staff(member, client, how):
    page = ""
    if how == "api":
        assert api_client(member).delete(f"{ME}/face/").json()["face_templates"] == 1
    else:
        client.force_login(member.user)
        page = client.post(reverse("portal:face-delete"), follow=True).content.decode()
    assert not FaceTemplate.objects.filter(member=member).exists()

    other = api_client(member).post(f"{ME}/face/", {"image": upload(face_photo(OTHER, 1))})
    # Before: 201, and George W. Bush walked in on Colin Powell's membership.
    assert other.status_code == 202, other.content
    body = other.json()
    assert body["code"] == "pending_review" and "You deleted your face data before" in body["detail"]
    assert body["face"]["enrolled"] is False and body["face"]["pending_review"] is True
    assert not FaceTemplate.objects.filter(member=member).exists()
    pending = pending_of(member)
    assert pending is not None and pending.score is None  # nothing to compare with
    assert erased_on(member) == dt.date(2026, 3, 2)  # the day, nothing biometric
    if how == "portal":  # the member was told, when they deleted it, what a new photo takes
        assert "the staff check it once before the door uses it" in page
        assert "You can enroll again whenever you like" in page


def test_withdraw_sign_again_then_another_persons_face_waits_for_staff(member, client):
    api = api_client(member)
    withdrawn = api.post(f"{ME}/consents/withdraw/", {"kind": "biometric"})
    assert withdrawn.status_code == 201, withdrawn.content
    sign(member)
    other = api.post(f"{ME}/face/", {"image": upload(face_photo(OTHER, 1))})
    assert other.status_code == 202, other.content  # before: 201
    assert not FaceTemplate.objects.filter(member=member).exists() and pending_of(member) is not None
    assert erased_on(member) == dt.date(2026, 3, 2)

    # The withdrawal's receipt says plainly that enrolling again works, with one look by staff.
    client.force_login(member.user)
    receipt = client.get(reverse("portal:receipt", args=[withdrawn.json()["id"]])).content.decode()
    assert "the staff then check the new photo once" in receipt

    # The member reads, in their language, why and what to do (re-enrolling still works).
    for language, words in (
        ("en", "You deleted your face data before"),
        ("da", "Du har slettet"),
        ("nb", "Du har slettet"),
    ):
        page = client.get(reverse("portal:face"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        client.cookies.pop("django_language", None)
        assert words in page, language


def test_a_brand_new_members_first_enrollment_is_unchanged(world):
    publish_documents(world.chain_a)
    member = member_with_login(world.chain_a, world.centre_a1)
    sign(member)
    api = api_client(member)
    # Deleting "face data" that was never there leaves no mark either.
    assert api.delete(f"{ME}/face/").json()["face_templates"] == 0
    assert api.post(f"{ME}/face/", {"image": upload(face_photo(OTHER, 1))}).status_code == 201
    assert pending_of(member) is None and FaceTemplate.objects.filter(member=member).count() == 1


def test_staff_compare_in_person_and_approval_enrolls_it(member, login, world, commit):
    api_client(member).delete(f"{ME}/face/")
    desk = login("frontdesk_a")
    response = desk.post(
        reverse("staff:front-desk-member", args=[member.pk]),
        {"action": "photo", "photo": upload(face_photo(MEMBER, 2))},
    )
    # The desk's photo action has the same rule: to the review page, not enrolled.
    review = reverse("staff:front-desk-review", args=[member.pk])
    assert response.status_code == 302 and response["Location"] == review
    assert not FaceTemplate.objects.filter(member=member).exists()

    manager = login("manager_a")
    listing = manager.get(reverse("staff:front-desk-reviews")).content.decode()
    assert "face data deleted before: compare with the member in person" in listing
    page = manager.get(review).content.decode()
    assert "No earlier photo is kept" in page and "in person" in page
    for language, words in (
        ("da", "Der er ikke gemt noget tidligere foto"),
        ("nb", "Det er ikke lagret noe tidligere"),
    ):
        translated = manager.get(review, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        manager.cookies.pop("django_language", None)
        assert words in translated and "slettet" in translated, language
    assert reverse("staff:front-desk-review-photo", args=[member.pk]) in page
    with commit():
        assert manager.post(review, {"action": "approve", "confirm": "on"}).status_code == 302
    assert FaceTemplate.objects.filter(member=member).count() == 1 and pending_of(member) is None
    # Enrolled again: the templates are the reference from now on, and the day is not kept.
    assert erased_on(member) is None
    assert api_client(member).post(f"{ME}/face/", {"image": upload(face_photo(MEMBER, 3))}).status_code == 201
    assert api_client(member).post(f"{ME}/face/", {"image": upload(face_photo(OTHER, 1))}).status_code == 202


def test_the_day_is_in_the_export_and_erased_with_the_member(member, commit):
    api = api_client(member)
    api.delete(f"{ME}/face/")
    export = api.get(f"{ME}/export/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(export.streaming_content) if export.streaming else export.content))
    assert json.loads(archive.read("face_history.json")) == {"face_data_deleted_on": "2026-03-02"}
    category = next(c for c in held_about(Member.objects.get(pk=member.pk)) if c.key == "face_history")
    assert "Legitimate interest" in str(category.legal_basis) and "membership" in str(category.retention)

    # Erased with the member (it is a column of the member's row).
    member_id = member.pk
    with commit():
        receipt = erase_member(member=Member.objects.get(pk=member_id), actor=None, reason="test")
    assert receipt["member_id"] == member_id and not Member.objects.filter(pk=member_id).exists()


def test_at_most_n_photos_a_day_go_to_staff(member, client, settings, clock):
    settings.PENDING_FACE_PHOTOS_PER_DAY = 2
    api = api_client(member)
    photos = [face_photo(OTHER, 1), face_photo(THIRD, 1), face_photo(OTHER, 2)]
    assert [api.post(f"{ME}/face/", {"image": upload(p)}).status_code for p in photos[:2]] == [202, 202]
    waiting = pending_of(member).pk
    refused = api.post(f"{ME}/face/", {"image": upload(photos[2])})
    # Before: 202 again, as often as the member liked, each one replacing the last for staff.
    assert refused.status_code == 429, refused.content
    assert refused.json()["code"] == "too_many_reviews" and "(2)" in refused.json()["detail"]
    assert pending_of(member).pk == waiting  # the second photo still waits; nothing new was kept
    danish = api.post(f"{ME}/face/", {"image": upload(photos[2])}, HTTP_ACCEPT_LANGUAGE="da")
    assert danish.status_code == 429 and "grænsen" in danish.json()["detail"]
    # The portal: a form error, in the member's language.
    client.force_login(member.user)
    page = client.post(reverse("portal:face"), {"photo": upload(photos[2])}, HTTP_ACCEPT_LANGUAGE="nb")
    assert page.status_code == 200 and "grensen" in page.content.decode()
    # Deleting the face (and the photo waiting) does not reset the count.
    api.delete(f"{ME}/face/")
    assert api.post(f"{ME}/face/", {"image": upload(photos[2])}).status_code == 429
    clock.shift(dt.timedelta(days=1, minutes=1))
    assert api.post(f"{ME}/face/", {"image": upload(photos[2])}).status_code == 202


def test_the_limit_never_stops_a_matching_photo(member, settings):
    settings.PENDING_FACE_PHOTOS_PER_DAY = 1
    api = api_client(member)
    assert api.post(f"{ME}/face/", {"image": upload(face_photo(OTHER, 1))}).status_code == 202
    assert api.post(f"{ME}/face/", {"image": upload(face_photo(THIRD, 1))}).status_code == 429
    assert api.post(f"{ME}/face/", {"image": upload(face_photo(MEMBER, 2))}).status_code == 201


def test_the_schema_documents_the_429(client):
    responses = client.get("/api/schema/", {"format": "json"}).json()["paths"]["/api/v1/me/face/"]["post"]["responses"]
    assert "429" in responses and "too_many_reviews" in responses["429"]["description"]
