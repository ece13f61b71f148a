"""Tablets that do not know the newer statuses. A tablet written against the
door API as first documented knows `pending`, `granted` and `denied` only. Tablets declare what
else they handle (`supports`: `challenge`, `confirm`) in their heartbeat or with a scan; one that
has not declared a status never gets it and always reaches a final decision: where the door
would ask it a challenge or a grey-zone PIN, a refusal (`use_pin`) that sends the person to the
PIN pad. Real faces: ../shared/faces/dev and ../shared/pad/dev."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from access.models import AccessEvent, Challenge, Scan, Visit
from members.models import Centre
from members.services import set_pin
from tests.access.conftest import enrolled
from tests.access.test_grey_zone import GREY_PERSON, GREY_PHOTO
from tests.access.test_liveness_door import LIVE_PRINT_SUBJECT, enrolled_live, pad_image
from tests.conftest import face_photo

USE_PIN_DA = "Døren kan ikke tjekke dit ansigt denne gang. Brug venligst din PIN-kode."
FIRST_API_STATUSES = {"pending", "granted", "denied"}


class FirstApiTablet:
    """Exactly the requests of the door API as first documented: no field it did not know."""

    def __init__(self, token: str):
        self.client, self.auth = Client(), {"HTTP_AUTHORIZATION": f"Device {token}"}

    def heartbeat(self) -> None:
        body = {"app_version": "tablet-1.0", "camera": "ok"}
        response = self.client.post("/api/v1/door/heartbeat/", body, content_type="application/json", **self.auth)
        assert response.status_code == 200

    def final(self, response) -> dict:
        """Poll as the first API said, until granted or denied (a bounded number of polls)."""
        assert response.status_code in (200, 202), response.content
        body = response.json()
        for _ in range(5):
            assert body["status"] in FIRST_API_STATUSES, body  # nothing it cannot answer
            if body["status"] != "pending":
                return body
            body = self.client.get(f"/api/v1/door/scans/{body['id']}/", {"wait": 1}, **self.auth).json()
        pytest.fail(f"no final decision: {body}")

    def scan(self, image: bytes, direction: str = "in") -> dict:
        data = {"image": SimpleUploadedFile("frame.jpg", image, content_type="image/jpeg"), "direction": direction}
        return self.final(self.client.post("/api/v1/door/scans/", data, **self.auth))

    def pin(self, member_number: str, pin: str) -> dict:
        body = {"member_number": member_number, "pin": pin, "direction": "in"}
        return self.final(self.client.post("/api/v1/door/pin/", body, content_type="application/json", **self.auth))


@pytest.fixture
def old_tablet(tablet_a) -> FirstApiTablet:
    tablet = FirstApiTablet(tablet_a.token)
    tablet.heartbeat()
    return tablet


def test_a_first_api_tablet_is_never_asked_a_challenge(world, tablet_a, old_tablet):
    world.centre_a1.liveness = Centre.Liveness.CHALLENGE_ALWAYS
    world.centre_a1.save()
    lea = enrolled_live(world, LIVE_PRINT_SUBJECT, photo=0)
    set_pin(member=lea, pin="4711", actor=None)
    body = old_tablet.scan(pad_image("bona_fide", LIVE_PRINT_SUBJECT, 3))
    assert (body["status"], body["reason"], body["member"], body["message"]) == ("denied", "use_pin", None, USE_PIN_DA)
    assert not Challenge.objects.exists()
    event = AccessEvent.objects.get()
    assert (event.reason, event.member, event.score) == ("use_pin", None, None)  # nobody identified
    detail = {k: v for k, v in event.liveness_detail.items() if k not in ("cues", "reference")}  # scores only
    assert detail == {"mode": "challenge_always", "trigger": "always", "challenge": {"why": "not_supported"}}
    # The PIN pad the message sends them to works for the same tablet.
    assert (old_tablet.pin(lea.member_number, "4711")["status"]) == "granted"
    # The kiosk, which declares it, gets the challenge on the same door.
    assert tablet_a.scan(pad_image("bona_fide", LIVE_PRINT_SUBJECT, 4)).json()["status"] == "challenge"


def test_a_first_api_tablet_is_never_asked_a_grey_zone_pin(world, tablet_a, old_tablet):
    john = enrolled(world.chain_a, world.centre_a1, GREY_PERSON, first_name="John")
    set_pin(member=john, pin="4711", actor=None)
    body = old_tablet.scan(face_photo(GREY_PERSON, GREY_PHOTO))
    assert (body["status"], body["reason"], body["member"], body["message"]) == ("denied", "use_pin", None, USE_PIN_DA)
    assert body.get("confirm_url") is None
    event = AccessEvent.objects.get()
    assert (event.reason, event.member) == ("use_pin", None)  # the proposed member is not named
    assert 0.40 <= event.score < 0.55 and Scan.objects.get().status == "denied"
    assert not Visit.objects.exists()
    # Everything else is as before for it: the member's clear photo lets them in, a check-out ends.
    assert old_tablet.scan(face_photo(GREY_PERSON, 1))["status"] == "granted"
    assert old_tablet.scan(face_photo(GREY_PERSON, 2), direction="out")["status"] == "granted"


def test_what_a_tablet_declares_in_its_heartbeat_holds_until_its_next_one(world, tablet_a):
    john = enrolled(world.chain_a, world.centre_a1, GREY_PERSON, first_name="John")
    set_pin(member=john, pin="4711", actor=None)
    grey = face_photo(GREY_PERSON, GREY_PHOTO)

    def status_without_declaring() -> str:
        return tablet_a.scan(grey, supports=None).json()["status"]

    assert status_without_declaring() == "denied"  # no heartbeat yet: nothing declared
    assert tablet_a.heartbeat(app_version="kiosk-1", supports=["confirm", "hologram"]).status_code == 200
    tablet_a.device.refresh_from_db()
    assert tablet_a.device.last_status["supports"] == ["confirm"]  # unknown features are ignored
    assert status_without_declaring() == "confirm"
    assert tablet_a.heartbeat(app_version="kiosk-1").status_code == 200  # declares nothing now
    assert status_without_declaring() == "denied"


@pytest.mark.parametrize(
    "declared, status",
    [
        (["challenge", "confirm"], "confirm"),
        (["challenge,confirm"], "confirm"),  # one comma-separated field works too
        (["confirm"], "confirm"),
        (["challenge"], "denied"),
        ([""], "denied"),  # sent but empty: declares nothing, whatever the heartbeat said
        (["teleport"], "denied"),
    ],
)
def test_a_scan_declares_for_itself_even_before_any_heartbeat(world, tablet_a, declared, status):
    john = enrolled(world.chain_a, world.centre_a1, GREY_PERSON, first_name="John")
    set_pin(member=john, pin="4711", actor=None)
    if declared == [""]:
        tablet_a.heartbeat(supports=["challenge", "confirm"])
    body = tablet_a.scan(face_photo(GREY_PERSON, GREY_PHOTO), supports=tuple(declared)).json()
    assert body["status"] == status and (status == "confirm" or body["reason"] == "use_pin")


def test_the_schema_documents_what_tablets_declare(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["components"]["schemas"]
    for name in ("Heartbeat", "ScanRequest"):
        supports = schema[name]["properties"]["supports"]
        assert supports["type"] == "array" and "use_pin" in supports["description"], name
    reason = next(s for n, s in schema.items() if n.endswith("Enum") and "use_pin" in s.get("enum", []))
    assert {"use_pin", "goodbye"} <= set(reason["enum"])


def test_the_use_pin_message_is_translated():
    from django.utils import translation

    from access.messages import DENIED, Reason

    texts = set()
    for language in ("en", "da", "nb"):
        with translation.override(language):
            texts.add(str(DENIED[Reason.USE_PIN]))
    assert len(texts) == 3 and all("PIN" in text for text in texts)


def test_a_first_api_tablet_reaches_a_final_decision_for_every_real_face(world, old_tablet):
    """The default policy with a challenge for every entry that passes the passive check, a member
    in the grey zone, members and strangers, in and out: only granted or denied, ever."""
    world.centre_a1.liveness, world.centre_a1.liveness_challenge_percent = Centre.Liveness.CHALLENGE_IN_DOUBT, 100
    world.centre_a1.save()
    john = enrolled(world.chain_a, world.centre_a1, GREY_PERSON, first_name="John")
    set_pin(member=john, pin="4711", actor=None)
    world.centre_a1.refresh_from_db()
    faces = [face_photo(GREY_PERSON, n) for n in (2, GREY_PHOTO)] + [face_photo("Tony_Blair", 1)]
    faces += [pad_image("bona_fide", LIVE_PRINT_SUBJECT, 3), pad_image("print", LIVE_PRINT_SUBJECT, 0)]
    for direction in ("in", "out"):
        for photo in faces:
            assert old_tablet.scan(photo, direction)["status"] in ("granted", "denied")
    assert not Challenge.objects.exists() and not Scan.objects.filter(status="confirm").exists()
