"""Door fixtures: a paired tablet per chain, members enrolled with real faces and signed
biometric consent, and a private-file folder per test."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from access import services
from access.models import DeviceToken, Door
from consent.enrollment import enroll_face
from consent.models import ConsentDocument, ConsentRecord
from members.models import Centre, Member
from members.services import set_pin
from tests.conftest import face_photo, make_member


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


def kept_files(root) -> list:
    return sorted(root.rglob("*.bin"))


@dataclass
class Tablet:
    """A door tablet talking to the API over HTTP (Django's test client)."""

    client: Client
    token: str
    device: DeviceToken

    @property
    def auth(self) -> dict:
        return {"HTTP_AUTHORIZATION": f"Device {self.token}"}

    def scan(
        self,
        image: bytes,
        *,
        content_type: str = "image/jpeg",
        direction: str | None = None,
        key: str | None = None,
        name: str = "frame.jpg",
        supports: tuple[str, ...] | None = ("challenge", "confirm"),
        **extra,
    ):
        """A scan as the project's kiosk sends it: declaring that it answers challenges and grey-zone
        PINs (`supports=None`: a tablet of the first API, which does not say)."""
        data = {"image": SimpleUploadedFile(name, image, content_type=content_type)}
        if direction:
            data["direction"] = direction
        if supports is not None:
            data["supports"] = list(supports)
        headers = {**self.auth, **({"HTTP_IDEMPOTENCY_KEY": key} if key else {}), **extra}
        return self.client.post("/api/v1/door/scans/", data, **headers)

    def poll(self, scan_id, wait: str | int = 0):
        return self.client.get(f"/api/v1/door/scans/{scan_id}/", {"wait": wait}, **self.auth)

    def pin(self, member_number: str, pin: str, *, direction: str | None = None, key: str | None = None):
        body = {"member_number": member_number, "pin": pin, **({"direction": direction} if direction else {})}
        headers = {**self.auth, **({"HTTP_IDEMPOTENCY_KEY": key} if key else {})}
        return self.client.post("/api/v1/door/pin/", body, content_type="application/json", **headers)

    def heartbeat(self, **status):
        return self.client.post("/api/v1/door/heartbeat/", status, content_type="application/json", **self.auth)


def pair_tablet(centre: Centre, name: str = "Main entrance") -> Tablet:
    door = Door.objects.create(centre=centre, name=name)
    device, raw = services.issue_device_token(door=door, actor=None)
    return Tablet(Client(), raw, device)


def open_around_the_clock(*centres: Centre) -> None:
    for centre in centres:
        centre.opening_hours = {}
        centre.save()


@pytest.fixture
def tablet_a(world) -> Tablet:
    open_around_the_clock(world.centre_a1, world.centre_a2, world.centre_b1)
    return pair_tablet(world.centre_a1)


@pytest.fixture
def tablet_b(world, tablet_a) -> Tablet:
    return pair_tablet(world.centre_b1)


def consent_to_face_scan(member: Member) -> None:
    body = "I agree that a template of my face lets me in. A PIN works instead at every door."
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
        text_sha256=hashlib.sha256(body.encode()).hexdigest(),
        typed_name=member.full_name,
    )


def withdraw_face_consent(member: Member) -> None:
    document = ConsentDocument.objects.get(chain=member.chain, kind=ConsentDocument.Kind.BIOMETRIC, version=1)
    ConsentRecord.objects.create(
        member=member,
        document=document,
        action=ConsentRecord.Action.WITHDRAW,
        text_sha256=hashlib.sha256(document.body.encode()).hexdigest(),
    )


def enrolled(chain, centre, identity: str, photo: int = 1, **overrides) -> Member:
    member = make_member(chain, centre, **overrides)
    consent_to_face_scan(member)
    outcome = enroll_face(member=member, image=face_photo(identity, photo), actor=None)
    assert outcome.ok, outcome.reason
    return member


@pytest.fixture
def colin(world, tablet_a) -> Member:
    """A member of chain A, face enrolled from Colin Powell's first photo, PIN 4711."""
    member = enrolled(world.chain_a, world.centre_a1, "Colin_Powell", first_name="Colin")
    set_pin(member=member, pin="4711", actor=None)
    return member
