"""Retries racing each other: tablets that resend a frame before the first answer arrives get one
scan and one access event, whichever request inserts first (PostgreSQL, real threads)."""
from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from access.models import AccessEvent, Scan
from tests.conftest import face_photo

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                       reason="concurrent writers need PostgreSQL (SQLite locks the whole file)"),
]


def test_simultaneous_retries_with_one_key_decide_once(tablet_a, colin):
    photo = face_photo("Colin_Powell", 2)
    start = threading.Barrier(4)
    answers: list[tuple[int, str]] = []

    def send() -> None:
        client = Client()
        start.wait()
        response = client.post("/api/v1/door/scans/", {"image": SimpleUploadedFile("frame.jpg", photo, content_type="image/jpeg")}, HTTP_IDEMPOTENCY_KEY="same-frame",
                               **tablet_a.auth)
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
