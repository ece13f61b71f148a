"""Logs and metrics carry ids, never a person: a member goes through the door (face, PIN, wrong
PINs to a lockout), the portal (invitation, login, consents, PIN, an erasure request) and the
erasure, with the background purge run as a task; then no log line, as the JSON formatter writes
it, holds their name, e-mail, member number, PIN, face template or photo bytes, and every label
of a /metrics scrape is an id or a word from a closed set."""

from __future__ import annotations

import base64
import json
import logging
import re

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django_q.tasks import async_task

from consent.enrollment import enroll_face
from justface.log_json import JsonFormatter
from members import services as member_services
from members.models import FaceTemplate
from members.services import carry_out_erasure_request
from monitoring import collectors
from tests.access.conftest import consent_to_face_scan
from tests.conftest import face_photo, make_member
from tests.monitoring.helpers import samples
from tests.portal_helpers import PASSWORD, link_in_mail, publish_documents, sign

MARK = "Wqxmarker"
PIN = "739264"
ID_LABELS = {"chain", "centre", "door"}
# Every other label's values: words, dotted task names, bucket bounds.
WORD = re.compile(r"^(\+Inf|[0-9.e+-]+|[a-z][a-z0-9_.-]*)$")


class Lines(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter(node="test-node"))
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines():
    handler = Lines()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler.lines
    root.removeHandler(handler)


@pytest.fixture(autouse=True)
def fresh_collectors(monkeypatch):
    monkeypatch.setattr(collectors, "CACHE_SECONDS", 0.0)
    monkeypatch.setattr(collectors, "POPULATION_SECONDS", 0.0)


def test_no_log_line_or_metric_label_names_a_member(
    world, tablet_a, private_root, client, settings, django_capture_on_commit_callbacks, log_lines
):
    settings.JUSTFACE_PUBLIC_URL = "https://gym.example.com"
    cache.clear()
    chain, centre, manager = world.chain_a, world.centre_a1, world.user("manager_a")
    chain.settings = {"keep_member_photo": True, "denied_frame_hours": 2}
    chain.save()
    publish_documents(chain)
    member = make_member(
        chain,
        centre,
        first_name=f"{MARK}first",
        last_name=f"{MARK}last",
        email=f"{MARK.lower()}@example.com",
        member_number=f"{MARK}-77",
    )
    with django_capture_on_commit_callbacks(execute=True):
        member_services.invite_member(member=member, actor=manager)
    token = link_in_mail("/invitation/").rstrip("/").split("/")[-1]
    member = member_services.accept_invitation(token=token, password=PASSWORD)
    assert client.post("/accounts/login/", {"email": member.email, "password": "wrong"}).status_code == 200
    assert client.post("/accounts/login/", {"email": member.email, "password": PASSWORD}).status_code == 302
    sign(member, kind="terms")
    sign(member, kind="biometric")
    consent_to_face_scan(member)
    photo = face_photo("Colin_Powell", 1)
    assert enroll_face(member=member, image=photo, actor=member.user).ok
    template = FaceTemplate.objects.get(member=member).template
    member_services.set_pin(member=member, pin=PIN, actor=member.user)
    assert client.get("/me/").status_code == 200

    door_photo = face_photo("Colin_Powell", 2)
    with django_capture_on_commit_callbacks(execute=True):
        assert tablet_a.scan(door_photo).json()["status"] == "granted"
    with django_capture_on_commit_callbacks(execute=True):
        assert tablet_a.pin(member.member_number, PIN, direction="out").json()["status"] == "granted"
    for _ in range(6):  # the sixth is refused: the member number is locked
        tablet_a.pin(member.member_number, "135799")
    assert tablet_a.scan(b"not an image").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        request = member_services.file_data_subject_request(
            member=member, kind="erasure", message=f"{MARK}-freetext please forget me", actor=member.user
        )
    scrape_during = client.get("/metrics").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        carry_out_erasure_request(request=request, actor=manager)
    async_task("retention.jobs.purge_due")  # run in this process (tests' Q_CLUSTER is sync)
    scrape_after = client.get("/metrics").content.decode()

    needles = [
        member.first_name,
        member.last_name,
        member.email,
        member.member_number,
        PIN,
        template[:40],
        base64.b64encode(photo[200:260]).decode()[:40],
        base64.b64encode(door_photo[200:260]).decode()[:40],
        photo[200:260].hex(),
        photo[200:260].decode("latin-1"),
        door_photo[200:260].decode("latin-1"),
    ]
    text = "\n".join(log_lines)
    assert len(log_lines) > 10
    parsed = [json.loads(line) for line in log_lines]
    requests_logged = [p for p in parsed if p["logger"] == "justface.request"]
    tasks_logged = [p for p in parsed if p["logger"] == "justface.task"]
    assert any(p.get("route") == "api/v1/door/scans/" and p.get("door") for p in requests_logged)
    assert all(p["request_id"] and p["node"] == "test-node" and "duration_ms" in p for p in requests_logged)
    assert any(p["task"] == "retention.jobs.purge_due" and p["outcome"] == "success" for p in tasks_logged)
    for needle in needles:
        assert needle not in text, f"a log line holds {needle[:20]!r}"
    assert MARK.lower() not in text.lower()

    for scrape in (scrape_during, scrape_after):
        assert "justface_door_decisions_total" in scrape
        for needle in needles:
            assert needle not in scrape
        for sample in samples(scrape):
            if not sample.name.startswith("justface_"):
                continue  # the client library's own (python_info: the interpreter's version)
            for label, value in sample.labels.items():
                if label in ID_LABELS:
                    assert value.isdigit(), (sample.name, label, value)
                else:
                    assert WORD.match(value), (sample.name, label, value)
    assert django_settings.JUSTFACE_METRICS
