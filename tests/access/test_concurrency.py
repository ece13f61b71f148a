"""Retries racing each other: tablets that resend a frame before the first answer arrives get one
scan and one access event, whichever request inserts first (PostgreSQL, real threads)."""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from access.models import AccessEvent, Scan
from tests.conftest import face_photo

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="concurrent writers need PostgreSQL (SQLite locks the whole file)",
    ),
]


def test_simultaneous_retries_with_one_key_decide_once(tablet_a, colin):
    photo = face_photo("Colin_Powell", 2)
    start = threading.Barrier(4)
    answers: list[tuple[int, str]] = []

    def send() -> None:
        client = Client()
        start.wait()
        response = client.post(
            "/api/v1/door/scans/",
            {"image": SimpleUploadedFile("frame.jpg", photo, content_type="image/jpeg")},
            HTTP_IDEMPOTENCY_KEY="same-frame",
            **tablet_a.auth,
        )
        answers.append((response.status_code, response.json()["id"]))
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({scan_id for _, scan_id in answers}) == 1
    assert {status for status, _ in answers} <= {200, 202} and 200 in {status for status, _ in answers}
    assert Scan.objects.count() == 1 and AccessEvent.objects.count() == 1
    assert AccessEvent.objects.get().decision == "granted"


def test_parallel_wrong_pins_for_one_member_number_are_checked_at_most_five_times(world, tablet_a, colin, monkeypatch):
    """30 wrong PINs sent at once from 3 tablets for one member number; 11 were
    checked before the lock. The check is slowed to a real hasher's pace, so every request
    is in flight while the others arrive."""
    from access.models import PinLockout
    from access.services import pins  # where the PIN entries look the check up
    from tests.access.conftest import pair_tablet

    real = pins.pin_matches
    checked: list[int] = []

    def slow_pin_matches(*, member, pin):
        if member is not None:  # checked against Colin (a locked number's entry hashes nothing)
            checked.append(1)
        time.sleep(0.05)
        return real(member=member, pin=pin)

    monkeypatch.setattr(pins, "pin_matches", slow_pin_matches)
    tablets = [tablet_a, pair_tablet(world.centre_a1, "Back door"), pair_tablet(world.centre_a2)]
    start = threading.Barrier(30)
    reasons: list[str] = []

    def guess(n: int) -> None:
        tablet = tablets[n % 3]
        client = Client()
        start.wait()
        response = client.post(
            "/api/v1/door/pin/",
            {"member_number": colin.member_number, "pin": f"{1000 + n}"},
            content_type="application/json",
            **tablet.auth,
        )
        reasons.append(response.json()["reason"])
        connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reasons) == 30
    # Every answer is wrong_pin (a locked number answers like an unknown one); the
    # access events tell staff which entries were refused unchecked.
    assert len(checked) <= 5 and reasons.count("wrong_pin") == 30
    assert AccessEvent.objects.filter(reason="pin_locked").count() == 30 - len(checked)
    assert AccessEvent.objects.filter(reason="wrong_pin").count() <= 5
    # Once the five are in, the number is locked, even for the right PIN, on any door.
    assert len(checked) == 5
    assert tablets[1].pin(colin.member_number, "4711").json()["reason"] == "wrong_pin"
    assert AccessEvent.objects.filter(reason="pin_locked").count() == 31 - len(checked)
    assert PinLockout.objects.get(device=None).locked_until is not None


def test_parallel_pins_for_one_grey_zone_scan_are_checked_once(world, tablet_a, monkeypatch):
    """An attacker who got a grey-zone `confirm` sends ten PINs for it at once: the scan is claimed
    by one of them (compare-and-set), so one PIN is checked and the scan has one access event."""
    from access.services import pins  # where the PIN entries look the check up
    from members.services import set_pin
    from tests.access.conftest import enrolled
    from tests.access.test_grey_zone import GREY_PERSON, GREY_PHOTO

    john = enrolled(world.chain_a, world.centre_a1, GREY_PERSON, first_name="John")
    set_pin(member=john, pin="4711", actor=None)
    body = tablet_a.scan(face_photo(GREY_PERSON, GREY_PHOTO)).json()
    assert body["status"] == "confirm"
    real, checked = pins.pin_matches, []

    def slow_pin_matches(*, member, pin):
        checked.append(pin)
        time.sleep(0.05)
        return real(member=member, pin=pin)

    monkeypatch.setattr(pins, "pin_matches", slow_pin_matches)
    start = threading.Barrier(10)
    answers: list[str] = []

    def guess(n: int) -> None:
        client = Client()
        start.wait()
        response = client.post(
            f"/api/v1/door/scans/{body['id']}/confirm/",
            {"pin": f"{2000 + n}"},
            content_type="application/json",
            **tablet_a.auth,
        )
        answers.append(response.json()["status"])
        connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 10 and len(checked) == 1
    assert AccessEvent.objects.filter(scan_id=body["id"]).count() == 1
    assert AccessEvent.objects.get(scan_id=body["id"]).reason == "wrong_pin"
