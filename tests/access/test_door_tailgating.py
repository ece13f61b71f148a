"""Tailgating hints from the faces the tablet saw: one grant opens the door while its frame showed
more than one face (the server's detector counts the smaller faces further back it does not
refuse; a tablet may send its own count), or while the door stood open the tablet saw more than
one face. Plus the contact's own rule (two openings for one grant), elsewhere."""

from __future__ import annotations

import io
import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from access import services
from access.models import AccessEvent, DoorEvent
from tests.conftest import face_photo


@pytest.fixture
def agent_token(tablet_a):
    row, token = services.issue_door_agent(door=tablet_a.device.door, actor=None)
    return token


def report(token, *events):
    response = Client().post(
        "/api/v1/agent/reports/",
        json.dumps({"events": list(events)}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Agent {token}",
    )
    assert response.status_code == 200, response.content


def two_people() -> bytes:
    """Colin close to the camera and someone smaller further back: let in (the second face is
    under the refusal's size), but the detector counts two faces."""
    front = Image.open(io.BytesIO(face_photo("Colin_Powell", 2))).convert("RGB").resize((500, 500))
    back = Image.open(io.BytesIO(face_photo("Hugo_Chavez", 1))).convert("RGB").resize((300, 300))
    canvas = Image.new("RGB", (820, 500), (90, 90, 90))
    canvas.paste(front, (0, 0))
    canvas.paste(back, (510, 200))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=92)
    return out.getvalue()


def scan(tablet, image: bytes, **fields):
    data = {"image": SimpleUploadedFile("frame.jpg", image, content_type="image/jpeg"), **fields}
    data["supports"] = ["challenge", "confirm"]
    response = tablet.client.post("/api/v1/door/scans/", data, **tablet.auth)
    assert response.status_code == 200, response.content
    return response.json()


def hints() -> list[int]:
    return list(DoorEvent.objects.filter(kind="tailgating_hint").values_list("access_event", flat=True))


def test_a_grant_whose_frame_showed_a_second_face_further_back_hints_tailgating(tablet_a, colin, agent_token):
    answer = scan(tablet_a, two_people())
    assert (answer["status"], answer["reason"]) == ("granted", "ok")
    grant = AccessEvent.objects.get(decision="granted")
    assert grant.faces == 2  # the server's detector
    report(agent_token, {"type": "contact", "state": "open", "at": time.time()})
    assert hints() == [grant.pk]
    assert DoorEvent.objects.get(kind="opened").access_event_id == grant.pk


def test_the_tablets_own_count_of_faces_counts_too(tablet_a, colin, agent_token):
    answer = scan(tablet_a, face_photo("Colin_Powell", 2), faces="3")
    assert answer["status"] == "granted"
    grant = AccessEvent.objects.get(decision="granted")
    assert grant.faces == 3
    report(agent_token, {"type": "contact", "state": "open", "at": time.time()})
    assert hints() == [grant.pk]


def test_one_face_and_one_opening_is_no_hint(tablet_a, colin, agent_token):
    scan(tablet_a, face_photo("Colin_Powell", 2), faces="1")
    grant = AccessEvent.objects.get(decision="granted")
    assert grant.faces == 1
    now = time.time()
    report(
        agent_token,
        {"type": "contact", "state": "open", "at": now},
        {"type": "contact", "state": "closed", "at": now + 3},
    )
    assert hints() == [] and DoorEvent.objects.filter(kind="opened").count() == 1


def test_more_than_one_face_while_the_door_stood_open_hints_tailgating(tablet_a, colin, agent_token):
    scan(tablet_a, face_photo("Colin_Powell", 2))
    grant = AccessEvent.objects.get(decision="granted")
    report(agent_token, {"type": "contact", "state": "open", "at": time.time()})
    assert hints() == []
    # While the door is open, the tablet sees two people (and refuses the frame).
    crowd = scan(tablet_a, face_photo("Colin_Powell", 3), faces="2")
    assert crowd["status"] in ("granted", "denied")
    report(agent_token, {"type": "contact", "state": "closed", "at": time.time() + 1})
    assert hints() == [grant.pk]
    # Closing again (a repeated report) adds nothing.
    report(agent_token, {"type": "contact", "state": "closed", "at": time.time() + 2})
    assert hints() == [grant.pk]


@pytest.mark.parametrize("value", ["-1", "51", "two", "1.5"])
def test_a_bad_face_count_is_a_400_and_writes_nothing(tablet_a, colin, value):
    response = tablet_a.client.post(
        "/api/v1/door/scans/",
        {
            "image": SimpleUploadedFile("frame.jpg", face_photo("Colin_Powell", 2), content_type="image/jpeg"),
            "faces": value,
        },
        **tablet_a.auth,
    )
    assert response.status_code == 400 and "faces" in json.dumps(response.json())
    assert not AccessEvent.objects.exists()
