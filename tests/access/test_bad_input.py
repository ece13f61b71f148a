"""Bad input at the door never gives a 500 and never leaves anything behind: 401 for tokens,
400/413/415 with a clear `detail` for everything else."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.test import Client
from PIL import Image

from access import services
from access.models import AccessEvent, Scan
from tests.access.conftest import kept_files
from tests.conftest import face_photo


def nothing_written(private_root) -> bool:
    return not Scan.objects.exists() and not AccessEvent.objects.exists() and kept_files(private_root) == []


def image_bytes(fmt: str, size=(320, 240)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (120, 90, 60)).save(out, fmt)
    return out.getvalue()


def png_bomb(side: int = 60_000) -> bytes:
    """A valid PNG header claiming side x side pixels, with a tiny compressed body: a few
    hundred bytes that would unpack to gigabytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress(b"\x00" * (side + 1) * 16)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", rows)
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("header", [None, "Device", "Token abc", "Bearer abc", "Device not-a-real-token", "device abc"])
def test_missing_or_unknown_token_is_401(tablet_a, private_root, header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    client = Client()
    for method, url in (
        ("post", "/api/v1/door/scans/"),
        ("post", "/api/v1/door/pin/"),
        ("post", "/api/v1/door/heartbeat/"),
        ("get", "/api/v1/door/scans/00000000-0000-0000-0000-000000000000/"),
    ):
        response = getattr(client, method)(url, **extra)
        assert response.status_code == 401, (url, response.content)
        assert response.json()["detail"] and response["WWW-Authenticate"] == 'Device realm="door"'
    assert nothing_written(private_root)


def test_a_revoked_token_is_refused_at_once(tablet_a, private_root):
    assert tablet_a.heartbeat().status_code == 200
    assert services.revoke_device_token(token=tablet_a.device, actor=None)
    response = tablet_a.scan(face_photo("Colin_Powell", 2))
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert tablet_a.heartbeat().status_code == 401
    assert nothing_written(private_root)


def truncated_jpeg() -> bytes:
    data = face_photo("Colin_Powell", 2)
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    "case, upload, status, words",
    [
        ("not an image", (b"this is not a photo at all", "image/jpeg"), 400, "not an image"),
        ("empty", (b"", "image/jpeg"), 400, "empty"),
        ("truncated", (truncated_jpeg(), "image/jpeg"), 400, "truncated"),
        ("too many pixels a side", (image_bytes("JPEG", (8193, 16)), "image/jpeg"), 413, "8192"),
        ("decompression bomb", (png_bomb(), "image/png"), 413, "pixels"),
        ("wrong declared type", (image_bytes("JPEG"), "text/plain"), 415, "JPEG, PNG or WebP"),
        ("GIF pretending to be JPEG", (image_bytes("GIF"), "image/jpeg"), 415, "GIF"),
        ("BMP", (image_bytes("BMP"), "image/bmp"), 415, "JPEG, PNG or WebP"),
    ],
)
def test_bad_frames(tablet_a, colin, private_root, case, upload, status, words):
    data, content_type = upload
    response = tablet_a.scan(data, content_type=content_type)
    assert response.status_code == status, response.content
    assert words in response.json()["detail"]
    assert nothing_written(private_root)


def test_more_than_5_mb_is_413_before_it_is_read(tablet_a, private_root):
    response = tablet_a.scan(b"\xff\xd8" + b"\x00" * (5 * 1024 * 1024 + 100 * 1024))
    assert response.status_code == 413 and "5 MB" in response.json()["detail"]
    assert nothing_written(private_root)


def test_a_file_just_over_5_mb_is_413_too(tablet_a, private_root):
    response = tablet_a.scan(b"\xff\xd8" + b"\x00" * (5 * 1024 * 1024))
    assert response.status_code == 413 and "5 MB" in response.json()["detail"]


def test_missing_image_wrong_body_and_bad_fields(tablet_a, private_root):
    auth = tablet_a.auth
    client = tablet_a.client
    response = client.post("/api/v1/door/scans/", {"direction": "in"}, **auth)
    assert response.status_code == 400 and "'image'" in response.json()["detail"]
    response = client.post("/api/v1/door/scans/", {"image": "x"}, content_type="application/json", **auth)
    assert response.status_code == 415 and response.json()["detail"]
    response = tablet_a.scan(face_photo("Colin_Powell", 2), direction="sideways")
    assert response.status_code == 400 and "sideways" in response.json()["detail"]
    response = tablet_a.scan(face_photo("Colin_Powell", 2), key="spaces are not allowed")
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["detail"]
    response = tablet_a.scan(face_photo("Colin_Powell", 2), key="k" * 129)
    assert response.status_code == 400
    assert nothing_written(private_root)


@pytest.mark.parametrize("wait", ["11", "-1", "soon", "nan"])
def test_poll_wait_out_of_range(tablet_a, wait):
    scan = Scan.objects.create(
        device=tablet_a.device, door=tablet_a.device.door, centre=tablet_a.device.door.centre, method="face"
    )
    response = tablet_a.poll(scan.pk, wait=wait)
    assert response.status_code == 400 and "0 to 10" in response.json()["detail"]


@pytest.mark.parametrize("scan_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_scan_ids_are_404_with_detail(tablet_a, scan_id):
    response = tablet_a.poll(scan_id)
    assert response.status_code == 404 and response.json()["detail"]


@pytest.mark.parametrize(
    "body, words",
    [
        ({"member_number": "M1", "pin": "12ab"}, "4 to 8 digits"),
        ({"member_number": "M1", "pin": "123"}, "4 to 8 digits"),
        ({"member_number": "M1", "pin": "123456789"}, "4 to 8 digits"),
        ({"pin": "4711"}, "required"),
        ({"member_number": "M1"}, "required"),
        ({"member_number": "x" * 33, "pin": "4711"}, "32"),
        ({"member_number": "M1", "pin": "4711", "direction": "up"}, "up"),
    ],
)
def test_bad_pin_requests(tablet_a, private_root, body, words):
    response = tablet_a.client.post("/api/v1/door/pin/", body, content_type="application/json", **tablet_a.auth)
    assert response.status_code == 400 and words in response.json()["detail"], response.content
    assert nothing_written(private_root)


def test_malformed_json_is_400(tablet_a):
    response = tablet_a.client.post("/api/v1/door/pin/", "{not json", content_type="application/json", **tablet_a.auth)
    assert response.status_code == 400 and response.json()["detail"]
    response = tablet_a.client.post(
        "/api/v1/door/heartbeat/", {"camera": "melted"}, content_type="application/json", **tablet_a.auth
    )
    assert response.status_code == 400 and "melted" in response.json()["detail"]


@pytest.mark.parametrize(
    "body, words",
    [
        ({"member_number": "", "pin": "4711"}, "blank"),
        ({"member_number": "M1", "pin": "٤٧١١"}, "4 to 8 digits"),
        ({"member_number": "M1", "pin": "４７１１"}, "4 to 8 digits"),
    ],
)
def test_pin_requests_need_a_member_number_and_ascii_digits(tablet_a, body, words):
    response = tablet_a.client.post("/api/v1/door/pin/", body, content_type="application/json", **tablet_a.auth)
    assert response.status_code == 400 and words in response.json()["detail"], response.content
