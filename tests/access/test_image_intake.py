"""Every image endpoint holds images to one allow-list (JPEG, PNG, WebP) and one set of pixel
limits, read from the header before anything is decoded: the door's
scan and its challenge answer, the member API's enrollment, the portal's face page and the
front desk's photo. Refusals are 4xx with a message that lists the formats or states the limit."""

from __future__ import annotations

import io
import struct
import threading
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from access.models import AccessEvent, Scan
from consent import enrollment
from justface.face_runtime import engine_slot
from members.models import FaceTemplate
from tests.conftest import face_photo
from tests.portal_helpers import api_client, member_with_login, publish_documents, sign

FOREIGN_FORMATS = ["TIFF", "BMP", "PPM", "TGA", "GIF"]
LIMIT = "16.8 megapixels"  # the default JUSTFACE_IMAGE_MAX_PIXELS, 4096×4096


def png_header(width: int, height: int) -> bytes:
    """A valid PNG header declaring width x height pixels, with a few bytes of pixels: what a
    single-colour PNG bomb looks like before it is decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * (width * 3 + 1) * 4))
        + chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) is rewritten to declare width x height."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 150)).save(out, "JPEG")
    data = bytearray(out.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def photo_as(fmt: str, photo: bytes | None = None, size: tuple[int, int] | None = None) -> bytes:
    image = Image.open(io.BytesIO(photo or face_photo("Colin_Powell", 1))).convert("RGB")
    if size:
        image = image.resize(size)
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def selfie_12mpx() -> bytes:
    """A 4032x3024 phone selfie (12.2 Mpx, JPEG): a real face filling the frame's height."""
    face = Image.open(io.BytesIO(face_photo("Colin_Powell", 1))).convert("RGB").resize((3024, 3024), Image.BICUBIC)
    canvas = Image.new("RGB", (4032, 3024), (128, 128, 128))
    canvas.paste(face, (504, 0))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=90)
    return out.getvalue()


BOMBS = {
    "png 7000x7000": (png_header(7000, 7000), "image/png"),
    "jpeg declaring 8000x8000": (jpeg_declaring(8000, 8000), "image/jpeg"),
    "jpeg declaring 30000x30000": (jpeg_declaring(30000, 30000), "image/jpeg"),
}


# --- the door -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FOREIGN_FORMATS)
def test_door_scan_refuses_other_formats(tablet_a, fmt):
    response = tablet_a.scan(photo_as(fmt), content_type="image/jpeg")
    assert response.status_code == 415, response.content
    assert "JPEG, PNG or WebP" in response.json()["detail"]
    assert not Scan.objects.exists()


@pytest.mark.parametrize("bomb", BOMBS)
def test_door_scan_refuses_too_many_pixels_with_the_limit(tablet_a, bomb):
    data, content_type = BOMBS[bomb]
    response = tablet_a.scan(data, content_type=content_type)
    assert response.status_code == 413, response.content
    assert LIMIT in response.json()["detail"]
    assert not Scan.objects.exists()


def _challenge(tablet, frames: list[tuple[bytes, str]]):
    """A challenge answer for one of the tablet's own scans (none is asked: the frames are
    checked before the nonce and the challenge are)."""
    scan = Scan.objects.create(device=tablet.device, door=tablet.device.door, centre=tablet.device.door.centre)
    data = {
        "nonce": "x" * 32,
        "frames": [SimpleUploadedFile(f"f{n}", body, content_type=ct) for n, (body, ct) in enumerate(frames)],
    }
    return tablet.client.post(f"/api/v1/door/scans/{scan.pk}/challenge/", data, **tablet.auth)


@pytest.mark.parametrize("fmt", FOREIGN_FORMATS)
def test_challenge_frames_refuse_other_formats(tablet_a, fmt):
    response = _challenge(tablet_a, [(photo_as("JPEG"), "image/jpeg"), (photo_as(fmt), "image/jpeg")])
    assert response.status_code == 415, response.content
    assert "JPEG, PNG or WebP" in response.json()["detail"]


def test_challenge_frames_refuse_a_bomb_with_the_limit(tablet_a):
    response = _challenge(tablet_a, [BOMBS["png 7000x7000"]] * 3)
    assert response.status_code == 413 and LIMIT in response.json()["detail"]


def test_a_burst_with_too_many_pixels_together_is_refused(tablet_a):
    # 10 frames of 1600x1200 (19.2 Mpx together): each fine alone, too much in one request.
    frame = (photo_as("JPEG", size=(1600, 1200)), "image/jpeg")
    response = _challenge(tablet_a, [frame] * 10)
    assert response.status_code == 413, response.content
    assert f"{LIMIT} together" in response.json()["detail"]
    # The case: ten 4096x4096 PNGs of a few kilobytes each.
    response = _challenge(tablet_a, [(png_header(4096, 4096), "image/png")] * 10)
    assert response.status_code == 413 and f"{LIMIT} together" in response.json()["detail"]
    # A scan's burst (image, image2, image3) is one request too.
    big = photo_as("JPEG", size=(2600, 2600))
    data = {
        "image": SimpleUploadedFile("a.jpg", big, content_type="image/jpeg"),
        "image2": SimpleUploadedFile("b.jpg", big, content_type="image/jpeg"),
        "image3": SimpleUploadedFile("c.jpg", big, content_type="image/jpeg"),
    }
    response = tablet_a.client.post("/api/v1/door/scans/", data, **tablet_a.auth)
    assert response.status_code == 413 and f"{LIMIT} together" in response.json()["detail"]
    assert not AccessEvent.objects.exists()


# --- enrollment: the member API, the portal page, the front desk -----------------------------


@pytest.fixture
def consenting(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    publish_documents(world.chain_a)
    member = member_with_login(world.chain_a, world.centre_a2)
    sign(member)
    return member


def _api(member, data: bytes, content_type: str = "image/jpeg"):
    upload = SimpleUploadedFile("selfie", data, content_type=content_type)
    return api_client(member).post("/api/v1/me/face/", {"image": upload}, format="multipart")


def _portal(client, member, data: bytes):
    client.force_login(member.user)
    upload = SimpleUploadedFile("selfie.jpg", data, content_type="image/jpeg")
    return client.post(reverse("portal:face"), {"photo": upload})


def _desk(login, member, data: bytes):
    upload = SimpleUploadedFile("selfie.jpg", data, content_type="image/jpeg")
    return login("manager_a").post(
        reverse("staff:front-desk-member", args=[member.pk]), {"action": "photo", "photo": upload}
    )


@pytest.mark.parametrize("fmt", FOREIGN_FORMATS)
def test_member_api_enrollment_refuses_other_formats(consenting, fmt):
    response = _api(consenting, photo_as(fmt))  # a real face, in a format Pillow reads
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "unsupported_format" and "JPEG, PNG or WebP" in body["detail"]
    assert not FaceTemplate.objects.exists()


@pytest.mark.parametrize("bomb", BOMBS)
def test_member_api_enrollment_refuses_too_many_pixels_with_the_limit(consenting, bomb):
    response = _api(consenting, *BOMBS[bomb])
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "image_too_large" and LIMIT in body["detail"] and "4096×4096" in body["detail"]


@pytest.mark.parametrize("fmt", ["TIFF", "BMP", "GIF"])
def test_portal_and_desk_enrollment_refuse_other_formats(consenting, client, login, fmt):
    for response in (_portal(client, consenting, photo_as(fmt)), _desk(login, consenting, photo_as(fmt))):
        assert response.status_code == 200  # the page again, with the form's error
        assert "JPEG, PNG or WebP" in response.content.decode()
    assert not FaceTemplate.objects.exists()


def test_portal_and_desk_enrollment_refuse_a_bomb_with_the_limit(consenting, client, login):
    data = BOMBS["png 7000x7000"][0]
    for response in (_portal(client, consenting, data), _desk(login, consenting, data)):
        assert response.status_code == 200 and LIMIT in response.content.decode()
    assert not FaceTemplate.objects.exists()


def test_enrollment_message_states_the_limit_in_every_language(consenting):
    from django.utils import translation

    from justface.face_messages import enrollment_message

    body = _api(consenting, png_header(5000, 5000), "image/png").json()
    assert body["detail"] == enrollment_message("image_too_large")
    for language, word in (("en", "megapixels"), ("da", "højst"), ("nb", "megapiksler")):
        with translation.override(language):
            message = enrollment_message("image_too_large")
            assert "16.8 " in message and word in message and "4096×4096" in message, language
            assert "JPEG" in enrollment_message("unsupported_format") and "WebP" in enrollment_message(
                "unsupported_format"
            )


def test_a_12_megapixel_phone_selfie_still_enrolls(consenting):
    response = _api(consenting, selfie_12mpx())
    assert response.status_code == 201, response.content


def test_enrollment_waits_for_the_engines_slot(consenting, monkeypatch):
    """Enrollment decodes and analyses in the same slot as the door: while another thread holds
    it, an enrollment is answered "busy" (after ENGINE_WAIT_SECONDS), not run beside it."""
    monkeypatch.setattr(enrollment, "ENGINE_WAIT_SECONDS", 0.05)
    held, done = threading.Event(), threading.Event()

    def hold():
        with engine_slot:
            held.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        held.wait(5)
        response = _api(consenting, face_photo("Colin_Powell", 1))
    finally:
        done.set()
        holder.join()
    assert response.status_code == 503 and response.json()["code"] == "busy", response.content
    assert not FaceTemplate.objects.exists()
    assert _api(consenting, face_photo("Colin_Powell", 1)).status_code == 201
